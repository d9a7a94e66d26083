"""ReIR's Fig. 4: accuracy at IoU thresholds 0.5-0.8 (and mean IoU) of several runs, as a PNG.

    python tools/analysis_tools/reir_iou_curve.py \\
        --run "with STR=work_dirs/reir_seeds/full-s0/metrics.json,work_dirs/.../full-s1/..." \\
        --run "without STR=work_dirs/reir_seeds/tsd-vogn-rc-s0/metrics.json,..." \\
        --out work_dirs/reir_iou_curve.png [--box-set fused] [--protocol union]

Each ``--run LABEL=FILE[,FILE...]`` names the metrics JSON files (``tools/test.py
--metrics-json``, with :class:`ReIRBoxMetric`) of one setting; several files (seeds) give
the mean and standard deviation. The table of the plotted numbers is printed too.
"""

import argparse
import json
import os
import os.path as osp
import re

import numpy as np

KEY = re.compile(r'^reir/(?P<set>[^/]+)/(?P<protocol>[^/]+)/acc@(?P<t>[0-9.]+)$')


def read_curve(path: str, *, box_set: str, protocol: str) -> tuple[dict[float, float], float]:
    """The ``{threshold: accuracy}`` and mean IoU of one metrics file."""
    with open(path, encoding='utf-8') as f:
        metrics = json.load(f)
    curve = {}
    for key, value in metrics.items():
        match = KEY.match(key)
        if match and match['set'] == box_set and match['protocol'] == protocol:
            curve[float(match['t'])] = float(value)
    miou = metrics.get(f'reir/{box_set}/{protocol}/miou')
    if not curve or miou is None:
        raise ValueError(
            f'{path}: no reir/{box_set}/{protocol}/acc@... metrics (evaluate with ReIRBoxMetric)'
        )
    return curve, float(miou)


def summarise(paths: list[str], *, box_set: str, protocol: str) -> dict:
    """Mean and standard deviation over the files of one run."""
    curves = [read_curve(p, box_set=box_set, protocol=protocol) for p in paths]
    thresholds = sorted(curves[0][0])
    if any(sorted(c) != thresholds for c, _ in curves):
        raise ValueError(f'{paths}: the files report different IoU thresholds')
    acc = np.array([[c[t] for t in thresholds] for c, _ in curves])  # (runs, T)
    miou = np.array([m for _, m in curves])
    return dict(
        thresholds=thresholds,
        mean=acc.mean(0),
        std=acc.std(0),
        miou_mean=float(miou.mean()),
        miou_std=float(miou.std()),
        runs=len(paths),
    )


def parse_run(text: str) -> tuple[str, list[str]]:
    label, sep, files = text.partition('=')
    if not sep or not files:
        raise argparse.ArgumentTypeError(f'expected LABEL=FILE[,FILE...], got {text!r}')
    return label, [f for f in files.split(',') if f]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--run', type=parse_run, action='append', required=True)
    parser.add_argument('--out', required=True, help='PNG file')
    parser.add_argument('--box-set', default='fused', choices=['stage1', 'stage2', 'fused'])
    parser.add_argument('--protocol', default='union', choices=['any', 'union'])
    args = parser.parse_args()

    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, files in args.run:
        run = summarise(files, box_set=args.box_set, protocol=args.protocol)
        name = f'{label} (mIoU {run["miou_mean"]:.1f})'
        ax.errorbar(
            run['thresholds'], run['mean'], yerr=run['std'], marker='o', capsize=3, label=name
        )
        cells = ' '.join(
            f'{t:g}: {m:.2f} ± {s:.2f}'
            for t, m, s in zip(run['thresholds'], run['mean'], run['std'])
        )
        print(
            f'{label} ({run["runs"]} runs): {cells}; mIoU {run["miou_mean"]:.2f} ± '
            f'{run["miou_std"]:.2f}'
        )
    ax.set_xlabel('IoU threshold')
    ax.set_ylabel(f'accuracy (%), {args.box_set}, {args.protocol} box')
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    tmp = args.out + '.tmp.png'
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, args.out)  # atomic
    print(f'-> {args.out}')


if __name__ == '__main__':
    main()
