"""`make demo`: build SynthGround, train and evaluate the demo models, print the table.

The demo's models are the registry's ``centre``, ``random``, ``galbef`` and ``amc``
(``mmgrounding/apis/synthground_leaderboard.py``) at seed 0. The experiment runner
(``mmgrounding/apis/experiments.py``) trains gALBEF and AMC as ``tools/train.py`` processes
side by side (``--jobs`` at a time, ``--threads`` threads each; one single-threaded process
per core is the fastest way to train these small models on a few cores) with a live display
of each training's iteration, loss, elapsed and remaining time, then evaluates every model on
the test split with a progress bar. A model whose work dir holds its final checkpoint is not
trained again; an interrupted training resumes. Results go to ``<work-dir>/results.json``, the
training logs to ``<work-dir>/<model>/seed0/train.log`` and the heatmap pictures to
``<work-dir>/<model>/seed0/eval/Flickr30k/<time>/heatmaps``.
"""

import argparse
import json
import os
import os.path as osp
import sys
import time

from rich.console import Console

from mmgrounding.apis import experiments as ex
from mmgrounding.apis import synthground_leaderboard as registry
from mmgrounding.apis.results_tables import protocol_text
from mmgrounding.utils import register_all_modules
from mmgrounding.utils.atomic import atomic_write_json

DEMO_MODELS = ('centre', 'random', 'galbef', 'amc')
SPLIT = 'Flickr30k'
COLUMNS = [
    ('pointing acc.', 'pointing/accuracy'),
    ('R@1', 'box_recall/R@1'),
    ('R@5', 'box_recall/R@5'),
    ('R@10', 'box_recall/R@10'),
]
DETERMINISM = osp.join(ex.REPO_ROOT, 'results', 'determinism.json')
# the same measurement on the whole demo recipe (900 iterations), preferred when it exists
DETERMINISM_FULL = osp.join(ex.REPO_ROOT, 'results', 'determinism_full.json')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data', default='data/synthground', help='SynthGround folder')
    parser.add_argument('--seed', type=int, default=0, help='SynthGround seed')
    parser.add_argument('--num-images', type=int, default=1500, help='SynthGround size')
    parser.add_argument(
        '--preset', default='v2', choices=('v1', 'v2'), help='SynthGround build (default v2)'
    )
    parser.add_argument(
        '--work-dir',
        help='outputs folder (default work_dirs/demo/<preset>-seed<S>, work_dirs/demo for v1 '
        'seed 0: experiments.default_work_dir)',
    )
    parser.add_argument('--pictures', type=int, default=8, help='heatmap pictures per model')
    parser.add_argument('--jobs', type=int, default=2, help='models trained at the same time')
    parser.add_argument('--threads', type=int, default=1, help='threads per training process')
    parser.add_argument('--max-iters', type=int, help='a shorter schedule (a quick look)')
    return parser.parse_args()


def spread_note(path: str | None = None) -> str:
    """What the demo's numbers may move by, from ``results/determinism_full.json`` (the whole
    recipe), else ``results/determinism.json`` (its first 100 iterations)."""
    if path is None:
        path = DETERMINISM_FULL if osp.isfile(DETERMINISM_FULL) else DETERMINISM
    if not osp.isfile(path):
        return ''
    with open(path) as f:
        spread = json.load(f)
    two = spread.get('two_threads_identical')
    return (
        f'Same machine, one thread: bitwise identical weights '
        f'({"yes" if spread.get("same_threads_identical") else "no"}); '
        + ('' if two is None else f'two threads: {"identical" if two else "not repeatable"}; ')
        + f'1 vs 2 threads: pointing moves by up to {spread["max_abs_diff"]:.2f} points '
        f'({spread["experiment"]}, {spread["iters"]} iterations; docs/leaderboard.md '
        '"Determinism").'
    )


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
    console = Console(file=sys.stdout, soft_wrap=True)  # not the evaluations' redirected stdout
    start = time.perf_counter()
    meta = ex.ensure_synthground(
        args.data, seed=args.seed, num_images=args.num_images, preset=args.preset
    )
    console.print(
        f'SynthGround {args.preset} in {args.data} (seed {args.seed}, {args.num_images} images)'
    )
    build = ex.build_identity(meta)
    args.work_dir = args.work_dir or ex.default_work_dir(build, base='work_dirs/demo')
    data_root = args.data.rstrip('/') + '/'
    vocab = ex.ensure_vocab(data_root)
    records = ex.run_experiments(
        [registry.experiment(name) for name in DEMO_MODELS],
        splits_of=lambda _: [SPLIT],
        work_dir=args.work_dir,
        seeds=[0],
        max_iters=args.max_iters,
        processes=args.jobs,
        threads=args.threads,
        data_root=data_root,
        vocab=vocab,
        pictures=args.pictures,
        console=console,
        build=build,
    )
    rows = [(r['label'], r['splits'][SPLIT]['metrics']) for r in records.values()]
    os.makedirs(args.work_dir, exist_ok=True)
    atomic_write_json(osp.join(args.work_dir, 'results.json'), records, indent=1)
    console.print(f'\nSynthGround test split (Flickr30k Entities format), {args.data}\n')
    console.print(format_table(rows), markup=False)
    protocols = {}
    for record in records.values():
        for protocol in record['splits'][SPLIT]['protocols'].values():
            protocols.setdefault(protocol_text(protocol), []).append(record['label'])
    for text, labels in protocols.items():
        console.print(f'- {text}: {", ".join(labels)}', markup=False)
    note = spread_note()
    if note:
        console.print(note, markup=False)
    console.print(
        f'\nheatmap pictures: {args.work_dir}/*/seed0/eval/{SPLIT}/*/heatmaps/   '
        f'results: {args.work_dir}/results.json   '
        f'total {time.perf_counter() - start:.0f} s',
        markup=False,
    )


if __name__ == '__main__':
    main()
