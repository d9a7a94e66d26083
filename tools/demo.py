"""`make demo`: build SynthGround, train and evaluate the demo models, print the table.

Each entry of ``DEMO_MODELS`` is a config; entries with ``train=True`` are trained first, as
``tools/train.py`` processes running side by side (``--jobs`` at a time, ``--threads`` threads
each; one single-threaded process per core is the fastest way to train these small models on a
few cores). A model whose work dir already holds its final checkpoint is not trained again.
Results go to ``<work-dir>/results.json``, the training logs to ``<work-dir>/<config>/train.log``
and the heatmap pictures to ``<work-dir>/<config>/<time>/heatmaps``.
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time

from mmengine.config import Config
from mmengine.runner import Runner

from mmgrounding.datasets.synthground import build_synthground
from mmgrounding.datasets.synthground.vocab import collect_texts, train_vocab
from mmgrounding.utils import register_all_modules

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
AMC_CONFIG = 'configs/amc/amc_albef-tiny_1xb32-900it_synthground-mix.py'
GALBEF_CONFIG = 'configs/amc/galbef_albef-tiny_1xb32-900it_synthground-mix.py'
FINAL_CKPT = 'demo_final.pth'

DEMO_MODELS = [
    dict(name='centre baseline', config='configs/baselines/centre_synthground_flickr30k.py'),
    dict(name='random baseline', config='configs/baselines/random_synthground_flickr30k.py'),
    dict(name='gALBEF (ALBEF Grad-CAM, no AMC)', config=GALBEF_CONFIG, train=True),
    dict(name='AMC (ALBEF + AMC)', config=AMC_CONFIG, train=True),
]

COLUMNS = [('pointing acc.', 'pointing/accuracy'), ('R@1', 'box_recall/R@1'),
           ('R@5', 'box_recall/R@5'), ('R@10', 'box_recall/R@10')]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', default='data/synthground', help='SynthGround folder')
    parser.add_argument('--seed', type=int, default=0, help='SynthGround seed')
    parser.add_argument('--num-images', type=int, default=1500, help='SynthGround size')
    parser.add_argument('--work-dir', default='work_dirs/demo', help='outputs folder')
    parser.add_argument('--pictures', type=int, default=8, help='heatmap pictures per model')
    parser.add_argument('--jobs', type=int, default=2, help='models trained at the same time')
    parser.add_argument('--threads', type=int, default=1, help='threads per training process')
    return parser.parse_args()


def ensure_synthground(out_dir: str, *, seed: int, num_images: int) -> dict:
    """Build SynthGround unless ``out_dir`` already holds the build for these arguments."""
    meta_path = osp.join(out_dir, 'meta.json')
    if osp.isfile(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        args = meta.get('arguments', {})
        if args.get('seed') == seed and args.get('num_images') == num_images:
            print(f'SynthGround found in {out_dir} (seed {seed}, {num_images} images)')
            return meta
    start = time.perf_counter()
    counts = build_synthground(out_dir, seed=seed, num_images=num_images)
    print(f'SynthGround built in {out_dir} in {time.perf_counter() - start:.1f} s')
    return counts


def ensure_vocab(data_root: str) -> str:
    """SynthGround's WordPiece vocabulary for the small text encoders."""
    vocab = osp.join(data_root, 'vocab.txt')
    if not osp.isfile(vocab):
        size = train_vocab(collect_texts(data_root), vocab)
        print(f'vocabulary of {size} tokens written to {vocab}')
    return vocab


def prepare_config(entry: dict, *, data_root: str, vocab: str, work_dir: str) -> Config:
    """``entry``'s config with the demo's work dir, data root and vocabulary."""
    cfg = Config.fromfile(entry['config'])
    cfg.work_dir = osp.join(work_dir, osp.splitext(osp.basename(entry['config']))[0])
    if 'tokenizer' in cfg.model:
        cfg.model.tokenizer = dict(vocab_file=vocab)
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader is None:
            continue
        # a ConcatDataset lists its parts; each part has its own data_root
        for dataset in loader.dataset.get('datasets', [loader.dataset]):
            dataset.data_root = data_root
    return cfg


def train_all(cfgs: list[Config], *, jobs: int, threads: int) -> None:
    """Train every config lacking its final checkpoint, ``jobs`` processes at a time."""
    pending = [cfg for cfg in cfgs if not osp.isfile(osp.join(cfg.work_dir, FINAL_CKPT))]
    running: list[tuple[Config, subprocess.Popen, float]] = []
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    try:
        while pending or running:
            while pending and len(running) < jobs:
                cfg = pending.pop(0)
                running.append((cfg, start_training(cfg, env), time.perf_counter()))
            time.sleep(1)
            for item in [item for item in running if item[1].poll() is not None]:
                running.remove(item)
                cfg, proc, start = item
                log_file = osp.join(cfg.work_dir, 'train.log')
                if proc.returncode != 0:
                    with open(log_file) as f:
                        tail = f.read()[-3000:]
                    raise RuntimeError(f'training {cfg.work_dir} failed ({log_file}):\n{tail}')
                with open(osp.join(cfg.work_dir, 'last_checkpoint')) as f:
                    shutil.copyfile(f.read().strip(), osp.join(cfg.work_dir, FINAL_CKPT))
                print(f'trained {cfg.work_dir} in {time.perf_counter() - start:.0f} s')
    finally:  # an error or Ctrl-C stops the trainings this function started
        for _, proc, _ in running:
            proc.terminate()
            proc.wait()


def start_training(cfg: Config, env: dict) -> subprocess.Popen:
    """``tools/train.py`` on ``cfg`` (dumped to its work dir), logging to ``train.log``."""
    os.makedirs(cfg.work_dir, exist_ok=True)
    config_file = osp.join(cfg.work_dir, 'demo_config.py')
    cfg.dump(config_file)
    log_file = osp.join(cfg.work_dir, 'train.log')
    print(f'training {cfg.work_dir} (log: {log_file})')
    with open(log_file, 'w') as log:
        return subprocess.Popen(
            [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), config_file, '--work-dir',
             cfg.work_dir], stdout=log, stderr=subprocess.STDOUT, env=env)


def evaluate(entry: dict, cfg: Config, *, pictures: int, data_root: str) -> dict:
    """Evaluate ``entry`` (its final checkpoint when it is trained) on the test split."""
    with open(osp.join(data_root, 'flickr30k_entities', 'test.txt')) as f:
        num_test = len(f.read().split())
    hook = cfg.default_hooks.visualization
    hook.draw = True
    hook.test_out_dir = 'heatmaps'
    hook.interval = max(1, num_test // (cfg.test_dataloader.batch_size * pictures))
    if entry.get('train'):
        cfg.load_from = osp.join(cfg.work_dir, FINAL_CKPT)
    runner = Runner.from_cfg(cfg)
    return runner.test()


def format_table(rows: list[tuple[str, dict]]) -> str:
    header = '| model | ' + ' | '.join(c for c, _ in COLUMNS) + ' |'
    lines = [header, '|' + '---|' * (len(COLUMNS) + 1)]
    for name, metrics in rows:
        cells = [f'{metrics[k]:.2f}' if k in metrics else '-' for _, k in COLUMNS]
        lines.append(f'| {name} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main() -> None:
    args = parse_args()
    register_all_modules(init_default_scope=False)
    start = time.perf_counter()
    ensure_synthground(args.data, seed=args.seed, num_images=args.num_images)
    vocab = ensure_vocab(args.data)
    data_root = args.data.rstrip('/') + '/'
    cfgs = [prepare_config(entry, data_root=data_root, vocab=vocab, work_dir=args.work_dir)
            for entry in DEMO_MODELS]
    train_all([cfg for entry, cfg in zip(DEMO_MODELS, cfgs) if entry.get('train')],
              jobs=args.jobs, threads=args.threads)
    rows = []
    for entry, cfg in zip(DEMO_MODELS, cfgs):
        metrics = evaluate(entry, cfg, pictures=args.pictures, data_root=data_root)
        rows.append((entry['name'], metrics))
    table = format_table(rows)
    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump({name: metrics for name, metrics in rows}, f, indent=2)
    print(f'\nSynthGround test split (Flickr30k Entities format), {args.data}\n')
    print(table)
    print(f'\nheatmap pictures: {args.work_dir}/*/*/heatmaps/   '
          f'results: {args.work_dir}/results.json   '
          f'total {time.perf_counter() - start:.0f} s')


if __name__ == '__main__':
    main()
