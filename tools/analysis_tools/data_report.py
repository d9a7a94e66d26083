"""Write a SynthGround build's data report and re-render the doc tables that read it.

    python tools/analysis_tools/data_report.py [--synthground-root data/synthground/] \\
        [--region-cache DIR] [--detector-work-dir DIR] [--out FILE] [--no-docs]

The report (mmgrounding/apis/data_report.py): the counts of every benchmark split, the
detector's COCO metrics (``make detector``'s ``test_metrics.json`` and the last validation
of its training) and the region cache's proposal recall at IoU 0.5 and 0.7, with the build
they belong to. Defaults are the paths ``make proposals`` writes for the build; the default
build's report is ``results/synthground_data.json`` (its tables are re-rendered in docs/),
another build's ``results/synthground_data_<preset>-seed<S>.json``. ``make leaderboard`` runs
it after ``make proposals``.
"""

import argparse
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mmgrounding.apis import data_report as dr  # noqa: E402
from mmgrounding.utils.atomic import atomic_write_json  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--synthground-root', default=dr.SYNTHGROUND_ROOT)
    parser.add_argument('--region-cache', help='default: <root>/regions/<the detector>')
    parser.add_argument('--detector-work-dir', help="default: `make detector`'s work dir")
    parser.add_argument('--out', help='default: results/synthground_data[_<build>].json')
    parser.add_argument('--no-docs', action='store_true', help='do not re-render docs/')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    root = args.synthground_root
    cache = args.region_cache or osp.join(root, 'regions', dr.DETECTOR)
    work_dir = args.detector_work_dir or dr.default_detector_work_dir(root)
    out = args.out or osp.join(ROOT, dr.report_path(root))
    report = dr.collect_data_report(root, cache, work_dir)
    atomic_write_json(out, report, indent=2)
    print(f'wrote {out}')
    default = osp.abspath(out) == osp.abspath(osp.join(ROOT, dr.DATA_REPORT))
    if default and not args.no_docs:
        from mmgrounding.apis import synthground_leaderboard as registry
        from mmgrounding.apis.results_tables import rewrite_docs

        changed = rewrite_docs(registry.DATA_TABLES, (), {}, ROOT, results_root=ROOT)
        print('re-rendered: ' + (', '.join(changed) if changed else 'nothing changed'))
    for part in ('splits', 'detector', 'recall'):
        table = dr.DataReportTable(part, '', part, out)
        print(table.render(results_root=ROOT).split('\n\n- Measured')[0], end='\n\n')
    return report


if __name__ == '__main__':
    main()
