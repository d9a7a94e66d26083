"""Evaluate (config, checkpoint) pairs on benchmark splits and print the papers' tables.

    python tools/analysis_tools/leaderboard.py --suite synthground --layout papers \\
        --model "centre baseline" configs/baselines/centre_synthground_flickr30k.py \\
        --model "AMC" configs/amc/amc_albef-tiny_1xb32-6e_synthground.py AMC_CHECKPOINT \\
        --out leaderboard.json

Each model keeps its own test pipeline (image size, normalisation); only the dataset of its
test loader is swapped for each benchmark split. Layouts:
- ``papers``: pointing accuracy on Flickr30k | RefCOCO+ testA | RefCOCO+ testB | ReferIt
  (AMC Table 1, InfoGround, CKD);
- ``flickr30k``: pointing accuracy and R@1/5/10 on Flickr30k Entities test, and the
  per-phrase-type table (AMC Table 4);
- ``refcoco``: testA / testB; ``referit``: test.
Suites: ``real`` (the configs under ``configs/_base_/datasets/`` for the public data) and
``synthground`` (the same formats written by SynthGround; its ReferIt column,
``synthground_referit.py``, reads the RefCOCO files with the ReferIt loader and its val split,
since SynthGround has one refs file and no ReferIt files of its own). The
table is printed as markdown and everything is also saved as JSON.
"""
import argparse
import json
import os
import os.path as osp
from collections import OrderedDict

from mmengine.config import Config
from mmengine.runner import Runner

from mmgrounding.utils import register_all_modules

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATASETS = osp.join(ROOT, 'configs', '_base_', 'datasets')

# benchmark split -> (dataset config, overrides of its test dataset)
SUITES = {
    'real': OrderedDict([
        ('Flickr30k', ('flickr30k.py', {})),
        ('RefCOCO+ testA', ('refcoco+.py', dict(split='testA'))),
        ('RefCOCO+ testB', ('refcoco+.py', dict(split='testB'))),
        ('ReferIt', ('referit.py', {})),
    ]),
    'synthground': OrderedDict([
        ('Flickr30k', ('synthground_flickr30k.py', {})),
        ('RefCOCO+ testA', ('synthground_refcoco.py', dict(split='testA'))),
        ('RefCOCO+ testB', ('synthground_refcoco.py', dict(split='testB'))),
        ('ReferIt', ('synthground_referit.py', {})),
    ]),
}
LAYOUTS = {
    'papers': ['Flickr30k', 'RefCOCO+ testA', 'RefCOCO+ testB', 'ReferIt'],
    'flickr30k': ['Flickr30k'],
    'refcoco': ['RefCOCO+ testA', 'RefCOCO+ testB'],
    'referit': ['ReferIt'],
}
POINTING = 'pointing/accuracy'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--model', nargs='+', action='append', required=True,
                        metavar='NAME CONFIG [CHECKPOINT]', help='a model; repeat for more')
    parser.add_argument('--suite', choices=sorted(SUITES), default='synthground')
    parser.add_argument('--layout', choices=sorted(LAYOUTS), default='papers')
    parser.add_argument('--data-root', help='override every split\'s data_root')
    parser.add_argument('--work-dir', default='work_dirs/leaderboard')
    parser.add_argument('--out', help='JSON file for all metrics')
    return parser.parse_args()


def benchmark_dataset(split_name: str, suite: str, data_root: str | None) -> tuple[dict, list]:
    """The test dataset config (without pipeline) and evaluator of one benchmark split."""
    file, overrides = SUITES[suite][split_name]
    cfg = Config.fromfile(osp.join(DATASETS, file))
    dataset = dict(cfg.test_dataloader.dataset)
    dataset.pop('pipeline', None)
    dataset.update(overrides)
    if data_root is not None:
        dataset['data_root'] = data_root
    return dataset, cfg.test_evaluator


def evaluate(name: str, config: str, checkpoint: str | None, split_name: str, *, suite: str,
             data_root: str | None, work_dir: str) -> dict:
    cfg = Config.fromfile(config)
    dataset, evaluator = benchmark_dataset(split_name, suite, data_root)
    dataset['pipeline'] = cfg.test_dataloader.dataset.pipeline
    cfg.test_dataloader.dataset = dataset
    # models without boxes (ALBEF's heatmaps) get no R@k and show "-" in the tables
    cfg.test_evaluator = [dict(e, allow_no_boxes=True) if e['type'] == 'BoxRecallMetric' else e
                          for e in evaluator]
    cfg.load_from = checkpoint
    safe = ''.join(c if c.isalnum() else '_' for c in f'{name}_{split_name}')
    cfg.work_dir = osp.join(work_dir, safe)
    cfg.default_hooks.visualization.draw = False
    cfg.train_dataloader = None
    cfg.train_cfg = None
    cfg.optim_wrapper = None
    cfg.param_scheduler = None
    cfg.val_dataloader = None
    cfg.val_cfg = None
    cfg.val_evaluator = None
    return Runner.from_cfg(cfg).test()


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return '\n'.join(lines)


def format_tables(results: dict, layout: str) -> str:
    """The layout's table(s) from ``results[model][split] = metrics``."""
    splits = LAYOUTS[layout]
    cell = lambda m, k: f'{m[k]:.2f}' if k in m else '-'  # noqa: E731
    if layout != 'flickr30k':
        rows = [[name] + [cell(metrics.get(s, {}), POINTING) for s in splits]
                for name, metrics in results.items()]
        return markdown_table(['method'] + splits, rows)
    keys = [POINTING, 'box_recall/R@1', 'box_recall/R@5', 'box_recall/R@10']
    main = markdown_table(['method', 'pointing', 'R@1', 'R@5', 'R@10'],
                          [[name] + [cell(m['Flickr30k'], k) for k in keys]
                           for name, m in results.items()])
    types = sorted({k.split('/', 1)[1] for m in results.values() for k in m['Flickr30k']
                    if k.startswith('pointing/') and k != POINTING})
    per_type = markdown_table(['method'] + types,
                              [[name] + [cell(m['Flickr30k'], f'pointing/{t}') for t in types]
                               for name, m in results.items()])
    return main + '\n\nPointing accuracy per phrase type\n\n' + per_type


def main() -> None:
    args = parse_args()
    register_all_modules(init_default_scope=False)
    models = []
    for spec in args.model:  # all checked before the first (long) evaluation
        if len(spec) not in (2, 3):
            raise SystemExit(f'--model takes NAME CONFIG [CHECKPOINT], got {spec}')
        name, config = spec[:2]
        checkpoint = spec[2] if len(spec) == 3 and spec[2] != 'none' else None
        for path in (config, checkpoint):
            if path is not None and not osp.isfile(path):
                raise SystemExit(f'--model {name!r}: {path} does not exist')
        models.append((name, config, checkpoint))
    results: dict = OrderedDict()
    for name, config, checkpoint in models:
        results[name] = OrderedDict(
            (split, evaluate(name, config, checkpoint, split, suite=args.suite,
                             data_root=args.data_root, work_dir=args.work_dir))
            for split in LAYOUTS[args.layout])
    table = format_tables(results, args.layout)
    print(f'\n{args.suite} suite, {args.layout} layout\n\n{table}')
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(dict(suite=args.suite, layout=args.layout, results=results), f, indent=2)


if __name__ == '__main__':
    main()
