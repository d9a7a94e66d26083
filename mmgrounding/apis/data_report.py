"""The data numbers of a SynthGround build in one file, and the doc tables generated from it.

``results/synthground_data.json`` (``tools/analysis_tools/data_report.py``, run by
``make leaderboard`` after ``make proposals``) holds what the grounding results stand on:

- ``splits``: the counts of every benchmark split (images, queries, phrases, boxes and what
  the loader skipped, :func:`~mmgrounding.datasets.stats.dataset_stats`);
- ``detector``: the SynthGround detector's COCO box metrics on the test split
  (``test_metrics.json`` of ``make detector``) and on val at the last epoch of its training
  (the training's ``scalars.json``);
- ``recall``: the proposal recall of the region cache on the Flickr30k-format test split, at
  IoU 0.5 and 0.7 (:func:`~mmgrounding.evaluation.functional.proposal_recall.
  dataset_proposal_recall`);
- ``build`` and the region cache's detector checkpoint digest, which the numbers belong to.

A :class:`DataReportTable` renders one part of it between the markers of a page, as the
registry's tables render ``results/synthground.json``; ``leaderboard.py --check`` and the docs
test compare the pages with the file.
"""

import dataclasses
import glob
import json
import os.path as osp
from collections.abc import Sequence

from .builds import build_identity, build_tag, build_text, read_data_meta
from .evaluation_runs import SYNTHGROUND_ROOT, benchmark_dataset
from .results_tables import NOT_RUN
from .runs import REPO_ROOT

# the report of the default build (data/synthground) and of any other build
DATA_REPORT = 'results/synthground_data.json'
DATA_REPORT_OF_BUILD = 'results/synthground_data_{}.json'
COMMAND = 'python tools/analysis_tools/data_report.py'
SPLITS = ('Flickr30k', 'Flickr30k val', 'RefCOCO+ testA', 'RefCOCO+ testB', 'ReferIt')
RECALL_SPLIT = 'Flickr30k'
RECALL_TOPK = (1, 10, 30, 100)
RECALL_IOUS = (0.5, 0.7)
DETECTOR = 'faster-rcnn_r18-c32_fpn_1xb8-10e_synthground-vg'
COCO_KEYS = (
    ('bbox mAP', 'coco/bbox_mAP'),
    ('AP50', 'coco/bbox_mAP_50'),
    ('AP75', 'coco/bbox_mAP_75'),
    ('AP_s', 'coco/bbox_mAP_s'),
    ('AP_m', 'coco/bbox_mAP_m'),
)


def report_path(data_root: str) -> str:
    """The report of the build at ``data_root``, relative to the repository."""
    if osp.normpath(data_root) == osp.normpath(SYNTHGROUND_ROOT):
        return DATA_REPORT
    return DATA_REPORT_OF_BUILD.format(build_tag(build_identity(read_data_meta(data_root))))


def default_detector_work_dir(data_root: str) -> str:
    """``make detector``'s work dir of the build (work_dirs/<DATA>/ for a build other than
    data/synthground, as the Makefile's BUILD_WORK_DIRS)."""
    root = osp.normpath(data_root)
    if root == osp.normpath(SYNTHGROUND_ROOT):
        return osp.join('work_dirs', DETECTOR)
    return osp.join('work_dirs', root, DETECTOR)


def _build_dataset(cfg: dict):
    from mmengine.registry import DefaultScope

    from mmgrounding.registry import DATASETS
    from mmgrounding.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmgrounding'):
        return DATASETS.build(dict(cfg, pipeline=[], serialize_data=False))


def split_datasets(data_root: str, splits: Sequence[str] = SPLITS) -> dict:
    """``{split: (dataset config, dataset without pipeline)}`` of the build's benchmark splits."""
    datasets = {}
    for split in splits:
        cfg, _ = benchmark_dataset(split, 'synthground', data_root)
        datasets[split] = (cfg, _build_dataset(cfg))
    return datasets


def split_counts(datasets: dict) -> dict:
    """``{split: dataset_stats}`` of :func:`split_datasets`' splits."""
    from mmgrounding.datasets.stats import dataset_stats

    counts = {}
    for split, (cfg, dataset) in datasets.items():
        stats = dataset_stats(dataset)
        stats.pop('relation_degrees')
        counts[split] = dict(stats, format=type(dataset).__name__, ann_file=cfg.get('ann_file'))
    return counts


def detector_val_metrics(work_dir: str) -> dict | None:
    """The COCO metrics of the last validation of the latest training in ``work_dir`` (its
    ``<timestamp>/vis_data/scalars.json``), None when no training logged one."""
    for scalars in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))[::-1]:
        last = None
        with open(scalars, encoding='utf-8') as f:
            for line in f:
                record = json.loads(line)
                if 'coco/bbox_mAP' in record:
                    last = record
        if last is not None:
            return {k: v for k, v in last.items() if k.startswith('coco/')} | {
                'epoch': last.get('step')
            }
    return None


def detector_metrics(work_dir: str) -> dict:
    """``{'test': ..., 'val': ...}``: the test metrics ``make detector`` wrote
    (``test_metrics.json``) and the last validation of its training."""
    test_file = osp.join(work_dir, 'test_metrics.json')
    if not osp.isfile(test_file):
        raise FileNotFoundError(f'{test_file} does not exist: run `make detector` first')
    with open(test_file, encoding='utf-8') as f:
        test = json.load(f)
    return dict(test=test, val=detector_val_metrics(work_dir))


def cache_recall(dataset, region_cache: str) -> dict:
    """``{str(iou): recall}`` of the region cache on ``dataset`` (:data:`RECALL_SPLIT`'s) at
    each IoU."""
    from mmgrounding.datasets.region_cache import RegionCache
    from mmgrounding.evaluation.functional.proposal_recall import dataset_proposal_recall

    cache = RegionCache(region_cache)
    return {
        str(iou): dataset_proposal_recall(dataset, cache, RECALL_TOPK, iou_thr=iou)
        for iou in RECALL_IOUS
    }


def collect_data_report(data_root: str, region_cache: str, detector_work_dir: str) -> dict:
    """The report of one build (see the module docstring)."""
    cache_meta_file = osp.join(region_cache, 'meta.json')
    if not osp.isfile(cache_meta_file):
        raise FileNotFoundError(f'{cache_meta_file} does not exist: run `make proposals` first')
    with open(cache_meta_file, encoding='utf-8') as f:
        cache_meta = json.load(f)
    datasets = split_datasets(data_root)  # each split read once
    return dict(
        build=build_identity(read_data_meta(data_root)),
        region_cache=dict(
            path=region_cache,
            detector_checkpoint_sha256=cache_meta.get('detector', {}).get('checkpoint_sha256'),
        ),
        detector_work_dir=detector_work_dir,
        splits=split_counts(datasets),
        detector=detector_metrics(detector_work_dir),
        recall=cache_recall(datasets[RECALL_SPLIT][1], region_cache),
    )


# ----------------------------------------------------------------------------- doc tables
@dataclasses.dataclass(frozen=True)
class DataReportTable:
    """A generated table of one part of the data report.

    Attributes:
        name: the marker name.
        doc: the page it lives in.
        part: ``'splits'``, ``'detector'`` or ``'recall'``.
        file: the report, relative to the repository.
    """

    name: str
    doc: str
    part: str
    file: str = DATA_REPORT
    reads_files = True  # render() takes results_root (results_tables.render_generated)

    def render(self, experiments=(), results=None, results_root: str = REPO_ROOT) -> str:
        path = osp.join(results_root, self.file)
        if not osp.isfile(path):
            return f'{NOT_RUN}: `{COMMAND}` (run by `make leaderboard`) writes `{self.file}`.'
        with open(path, encoding='utf-8') as f:
            report = json.load(f)
        body = {'splits': _splits, 'detector': _detector, 'recall': _recall}[self.part](report)
        digest = report['region_cache'].get('detector_checkpoint_sha256') or ''
        return (
            body
            + '\n\n- Measured on SynthGround '
            + build_text(report['build'])
            + (f'; detector checkpoint `{digest[:8]}…`' if digest else '')
            + f'.\n- Generated by `{COMMAND}` (run by `make leaderboard`) into `{self.file}`; '
            'do not edit by hand.'
        )


def _splits(report: dict) -> str:
    lines = [
        '| split | format | images | queries | phrases | boxes | skipped by the loader |',
        '|---|---|---|---|---|---|---|',
    ]
    for split, c in report['splits'].items():
        skipped = ', '.join(f'{k} {v}' for k, v in c['skipped'].items()) or 'none'
        lines.append(
            f'| {split} | {c["format"]} | {c["images"]:,} | {c["queries"]:,} | '
            f'{c["phrases"]:,} | {c["boxes"]:,} | {skipped} |'
        )
    return '\n'.join(lines)


def _detector(report: dict) -> str:
    lines = [
        '| split | ' + ' | '.join(name for name, _ in COCO_KEYS) + ' |',
        '|---|' + '---|' * len(COCO_KEYS),
    ]
    val, test = report['detector'].get('val'), report['detector']['test']
    rows = [('test', test)]
    if val is not None:
        rows.insert(0, (f'val (last epoch, {val.get("epoch")}, of the training)', val))
    for label, metrics in rows:
        cells = [f'{100 * metrics[key]:.1f}' if key in metrics else '–' for _, key in COCO_KEYS]
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def _recall(report: dict) -> str:
    topk = RECALL_TOPK
    lines = [
        '| recall (%) | ' + ' | '.join(f'@{k}' for k in topk) + ' |',
        '|---|' + '---|' * len(topk),
    ]
    first = None
    for iou, recall in report['recall'].items():
        first = first or recall
        for key, name in (
            ('boxes', 'boxes'),
            ('phrases_any', 'phrases (any)'),
            ('phrases_union', 'phrases (union)'),
        ):
            cells = ' | '.join(f'{recall[key][str(k)]:.2f}' for k in topk)
            lines.append(f'| {name}, IoU ≥ {float(iou):g} | {cells} |')
    if first is not None:
        lines += [
            '',
            f'- {RECALL_SPLIT} test split: {first["num_images"]:,} images, '
            f'{first["num_phrases"]:,} phrases, {first["num_boxes"]:,} boxes; the top-k cached '
            'boxes of each image.',
        ]
    return '\n'.join(lines)
