"""ReIR's Fig. 4: box accuracy against the IoU threshold (0.5-0.8) and mean IoU, as a PNG.

    # the Table 2 rows of the leaderboard registry, from results/synthground.json
    python tools/analysis_tools/reir_iou_curve.py --out docs/_static/reir_iou_curve.png
    # chosen registry rows, another split or box set
    python tools/analysis_tools/reir_iou_curve.py --rows reir-tsd reir-tsd-str reir \\
        --split "Flickr30k val" --box-set stage1 --out work_dirs/reir/iou_curve_val.png
    # runs by hand: metrics JSON files of tools/test.py --metrics-json, one per seed
    python tools/analysis_tools/reir_iou_curve.py --out work_dirs/reir/iou_curve.png \\
        --run "TSD + STR=work_dirs/reir/tsd-str-s0/metrics.json,work_dirs/reir/tsd-str-s1/..."

A registry row's runs are the ``<row>/seed<S>`` entries of the results file
(``tools/analysis_tools/leaderboard.py`` writes them) for the seeds the registry lists; the
curve is the mean over the seeds present, the bars their sample standard deviation (as the
docs tables). The plotted numbers are printed as a markdown table.
"""

import argparse
import json
import os
import os.path as osp
import re
import statistics
import sys
from collections.abc import Mapping, Sequence

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
KEY = re.compile(r'^reir/(?P<set>[^/]+)/(?P<protocol>[^/]+)/acc@(?P<t>[0-9.]+)$')
TABLE2 = 'reir-table2'


def read_curve(
    metrics: Mapping[str, float], *, box_set: str, protocol: str, source: str
) -> tuple[dict[float, float], float]:
    """The ``{IoU threshold: accuracy}`` and mean IoU in one run's metrics."""
    curve = {}
    for key, value in metrics.items():
        match = KEY.match(key)
        if match and match['set'] == box_set and match['protocol'] == protocol:
            curve[float(match['t'])] = float(value)
    miou = metrics.get(f'reir/{box_set}/{protocol}/miou')
    if not curve or miou is None:
        raise ValueError(
            f'{source}: no reir/{box_set}/{protocol}/acc@... metrics (evaluate with ReIRBoxMetric)'
        )
    return curve, float(miou)


def _std(values: Sequence[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def summarise(curves: Sequence[tuple[dict[float, float], float]], *, source: str) -> dict:
    """Mean and sample standard deviation over the runs (seeds) of one row."""
    thresholds = sorted(curves[0][0])
    if any(sorted(c) != thresholds for c, _ in curves):
        raise ValueError(f'{source}: the runs report different IoU thresholds')
    acc = [[c[t] for c, _ in curves] for t in thresholds]  # (T, runs)
    mious = [m for _, m in curves]
    return dict(
        thresholds=thresholds,
        mean=[statistics.mean(a) for a in acc],
        std=[_std(a) for a in acc],
        miou_mean=statistics.mean(mious),
        miou_std=_std(mious),
        runs=len(curves),
    )


def registry_rows(
    results: dict, rows: Sequence[str] | None, *, split: str, box_set: str, protocol: str
) -> list[tuple[str, dict]]:
    """(label, summary) of each registry row with a run in ``results`` (default: Table 2's)."""
    from mmgrounding.apis.experiments import run_key
    from mmgrounding.apis.leaderboard_entries.reir import EXPERIMENTS

    by_name = {e.name: e for e in EXPERIMENTS}
    if rows is None:
        rows = [e.name for e in EXPERIMENTS if TABLE2 in e.tables]
    unknown = [r for r in rows if r not in by_name]
    if unknown:
        raise ValueError(f'not ReIR registry rows: {unknown}; known: {sorted(by_name)}')
    out = []
    for name in rows:
        experiment = by_name[name]
        curves = []
        for seed in experiment.seeds:
            run = results.get('runs', {}).get(run_key(name, seed))
            metrics = (run or {}).get('splits', {}).get(split, {}).get('metrics')
            if metrics is not None:
                source = f'{run_key(name, seed)} {split}'
                curves.append(
                    read_curve(metrics, box_set=box_set, protocol=protocol, source=source)
                )
        if not curves:
            print(f'{name}: no run on {split!r} in the results, left out', file=sys.stderr)
            continue
        label = experiment.label_in(TABLE2) if TABLE2 in experiment.tables else experiment.label
        out.append((label, summarise(curves, source=name)))
    if not out:
        raise ValueError(f'none of {list(rows)} has a run on {split!r} in the results')
    return out


def file_rows(runs: Sequence[tuple[str, list[str]]], *, box_set: str, protocol: str) -> list:
    """(label, summary) of each ``--run LABEL=FILE,...`` (metrics JSON files)."""
    out = []
    for label, paths in runs:
        curves = []
        for path in paths:
            with open(path, encoding='utf-8') as f:
                metrics = json.load(f)
            curves.append(read_curve(metrics, box_set=box_set, protocol=protocol, source=path))
        out.append((label, summarise(curves, source=label)))
    return out


def markdown(rows: Sequence[tuple[str, dict]]) -> str:
    thresholds = rows[0][1]['thresholds']
    header = ['row'] + [f'acc@{t:g}' for t in thresholds] + ['mIoU', 'seeds']
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for label, run in rows:
        cells = [f'{m:.2f} ± {s:.2f}' for m, s in zip(run['mean'], run['std'])]
        cells.append(f'{run["miou_mean"]:.2f} ± {run["miou_std"]:.2f}')
        lines.append('| ' + ' | '.join([label] + cells + [str(run['runs'])]) + ' |')
    return '\n'.join(lines)


def plot(rows: Sequence[tuple[str, dict]], out: str, *, title: str) -> None:
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    step = 0.004  # rows side by side at each threshold, so that the bars do not overlap
    for i, (label, run) in enumerate(rows):
        shift = (i - (len(rows) - 1) / 2) * step
        ax.errorbar(
            [t + shift for t in run['thresholds']],
            run['mean'],
            yerr=run['std'],
            marker='o',
            markersize=4,
            capsize=2,
            label=f'{label} (mIoU {run["miou_mean"]:.1f})',
        )
    ax.set_xticks(rows[0][1]['thresholds'])
    ax.set_xlabel('IoU threshold')
    ax.set_ylabel('accuracy (%)')
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    tmp = out + '.tmp.png'
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, out)  # atomic


def parse_run(text: str) -> tuple[str, list[str]]:
    label, sep, files = text.partition('=')
    if not sep or not files:
        raise argparse.ArgumentTypeError(f'expected LABEL=FILE[,FILE...], got {text!r}')
    return label, [f for f in files.split(',') if f]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', required=True, help='PNG file')
    parser.add_argument(
        '--results', default=osp.join(ROOT, 'results', 'synthground.json'), help='results file'
    )
    parser.add_argument(
        '--rows', nargs='+', help='ReIR registry rows (default: those of Table 2, in its order)'
    )
    parser.add_argument('--split', default='Flickr30k', help='benchmark split (default: test)')
    parser.add_argument(
        '--run', type=parse_run, action='append', help='LABEL=FILE[,FILE...] instead of --rows'
    )
    parser.add_argument('--box-set', default='fused', choices=['stage1', 'stage2', 'fused'])
    parser.add_argument('--protocol', default='union', choices=['any', 'union'])
    args = parser.parse_args(argv)
    if args.run and args.rows:
        parser.error('--run and --rows are alternatives')

    if args.run:
        rows = file_rows(args.run, box_set=args.box_set, protocol=args.protocol)
        title = f'{args.box_set} boxes, {args.protocol} ground truth'
    else:
        with open(args.results, encoding='utf-8') as f:
            results = json.load(f)
        rows = registry_rows(
            results, args.rows, split=args.split, box_set=args.box_set, protocol=args.protocol
        )
        title = (
            f'{osp.basename(args.results)}, split {args.split!r}: {args.box_set} boxes, '
            f'{args.protocol} ground truth; mean ± std over seeds'
        )
    plot(rows, args.out, title=title)
    print(markdown(rows))
    print(f'-> {args.out}')


if __name__ == '__main__':
    main()
