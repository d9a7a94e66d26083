"""`make demo`: build SynthGround, train and evaluate the demo models, print the table.

Each entry of ``DEMO_MODELS`` is a config; entries with ``train=True`` are trained first (their
checkpoint is reused when the work dir already holds the final one). Results go to
``<work-dir>/results.json`` and the heatmap pictures to ``<work-dir>/<name>/<time>/heatmaps``.
"""
import argparse
import json
import os
import os.path as osp
import time

from mmengine.config import Config
from mmengine.runner import Runner

from mmgrounding.datasets.synthground import build_synthground
from mmgrounding.datasets.synthground.vocab import collect_texts, train_vocab
from mmgrounding.utils import register_all_modules

DEMO_MODELS = [
    dict(name='centre baseline', config='configs/baselines/centre_synthground_flickr30k.py'),
    dict(name='random baseline', config='configs/baselines/random_synthground_flickr30k.py'),
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


def evaluate(entry: dict, *, data_root: str, vocab: str, work_dir: str, pictures: int) -> dict:
    """Train ``entry`` if it asks for it, then evaluate it on the test split."""
    cfg = Config.fromfile(entry['config'])
    cfg.work_dir = osp.join(work_dir, osp.splitext(osp.basename(entry['config']))[0])
    if 'tokenizer' in cfg.model:
        cfg.model.tokenizer = dict(vocab_file=vocab)
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if loader is not None:
            loader.dataset.data_root = data_root
    with open(osp.join(data_root, 'flickr30k_entities', 'test.txt')) as f:
        num_test = len(f.read().split())
    hook = cfg.default_hooks.visualization
    hook.draw = True
    hook.test_out_dir = 'heatmaps'
    hook.interval = max(1, num_test // (cfg.test_dataloader.batch_size * pictures))
    if entry.get('train'):
        final_ckpt = osp.join(cfg.work_dir, 'demo_final.pth')
        if not osp.isfile(final_ckpt):
            runner = Runner.from_cfg(cfg)
            runner.train()
            runner.save_checkpoint(cfg.work_dir, 'demo_final.pth')
        cfg.load_from = final_ckpt
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
    rows = []
    for entry in DEMO_MODELS:
        metrics = evaluate(entry, data_root=data_root, vocab=vocab, work_dir=args.work_dir,
                           pictures=args.pictures)
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
