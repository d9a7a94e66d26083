"""The data report (mmgrounding/apis/data_report.py, tools/analysis_tools/data_report.py): the
build's split counts, the detector's metrics and the region cache's recall, and its tables."""

import json
import os.path as osp

import pytest

from mmgrounding.apis import data_report as dr
from mmgrounding.datasets.stats import dataset_stats
from tests.test_tools.test_proposal_recall_tool import flickr30k_test, write_ground_truth_cache
from tests.tool_loader import load_tool as load_tool_file

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TEST_METRICS = {'coco/bbox_mAP': 0.419, 'coco/bbox_mAP_50': 0.609, 'coco/bbox_mAP_75': 0.504,
                'coco/bbox_mAP_s': 0.356, 'coco/bbox_mAP_m': 0.501, 'coco/bbox_mAP_l': -1.0}


def load_tool():
    return load_tool_file('tools/analysis_tools/data_report.py')


def detector_work_dir(root) -> str:
    """A `make detector` work dir: test metrics, and two trainings' scalars (the later one
    logged validations at epochs 1 and 2)."""
    work_dir = root / 'detector'
    for stamp, records in (
        ('20260101_000000', [{'coco/bbox_mAP': 0.1, 'step': 1}]),
        ('20260102_000000', [{'loss': 1.0, 'step': 5},
                             {'coco/bbox_mAP': 0.3, 'coco/bbox_mAP_50': 0.5, 'step': 1},
                             {'loss': 0.5, 'step': 10},
                             {'coco/bbox_mAP': 0.474, 'coco/bbox_mAP_50': 0.685, 'step': 2}]),
        ('20260103_000000', None),  # the test run: no scalars with validations
    ):
        vis = work_dir / stamp / 'vis_data'
        vis.mkdir(parents=True)
        if records is not None:
            (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))
    (work_dir / 'test_metrics.json').write_text(json.dumps(TEST_METRICS))
    return str(work_dir)


def test_report_of_a_build_and_its_tables(synthground_root, tmp_path):
    dataset = flickr30k_test(synthground_root)
    cache = str(tmp_path / 'cache')
    shifted = write_ground_truth_cache(dataset, cache)
    work_dir = detector_work_dir(tmp_path)
    out = tmp_path / 'report.json'
    report = load_tool().main(['--synthground-root', synthground_root, '--region-cache', cache,
                               '--detector-work-dir', work_dir, '--out', str(out), '--no-docs'])
    assert json.loads(out.read_text()) == report
    assert report['build']['seed'] == 0 and report['build']['num_images'] == 40

    # counts: those of the loader of each split, with its skips
    flickr = report['splits']['Flickr30k']
    expected = dataset_stats(dataset)
    assert flickr['phrases'] == expected['phrases'] and flickr['boxes'] == expected['boxes']
    assert flickr['skipped'] == dict(sorted(dataset.skip_counts.items()))
    assert set(report['splits']) == set(dr.SPLITS)

    # recall: every box but the shifted image's, at both IoUs (the proposals are the boxes)
    total = sum(len(p['boxes_xyxy']) for i in range(len(dataset))
                for p in dataset.get_data_info(i)['phrases'])
    missed = sum(len(p['boxes_xyxy']) for i in range(len(dataset))
                 if dataset.get_data_info(i)['img_id'] == shifted
                 for p in dataset.get_data_info(i)['phrases'])
    for iou in ('0.5', '0.7'):
        assert report['recall'][iou]['boxes']['100'] == round(100 * (total - missed) / total, 2)
        assert report['recall'][iou]['num_boxes'] == total

    # detector: the test metrics, and the last validation of the latest training that has one
    assert report['detector']['test'] == TEST_METRICS
    assert report['detector']['val'] == {'coco/bbox_mAP': 0.474, 'coco/bbox_mAP_50': 0.685,
                                         'epoch': 2}

    tables = {part: dr.DataReportTable('t', 'd', part, str(out)).render(results_root=REPO)
              for part in ('splits', 'detector', 'recall')}
    assert f"| {flickr['images']} | {flickr['queries']} | {flickr['phrases']:,} |" in (
        tables['splits'])
    assert '| test | 41.9 | 60.9 | 50.4 | 35.6 | 50.1 |' in tables['detector']
    assert '| val (last epoch, 2, of the training) | 47.4 | 68.5 | – | – | – |' in (
        tables['detector'])
    box_recall = f"{report['recall']['0.7']['boxes']['100']:.2f} |"
    assert '| boxes, IoU ≥ 0.7 |' in tables['recall'] and box_recall in tables['recall']
    for table in tables.values():
        assert 'seed 0, 40 images' in table and 'do not edit by hand' in table


def test_missing_inputs_are_named(synthground_root, tmp_path):
    with pytest.raises(FileNotFoundError, match='meta.json does not exist: run `make proposals`'):
        dr.collect_data_report(synthground_root, str(tmp_path / 'no-cache'), str(tmp_path))
    cache = str(tmp_path / 'cache')
    write_ground_truth_cache(flickr30k_test(synthground_root), cache)
    with pytest.raises(FileNotFoundError, match='test_metrics.json does not exist'):
        dr.collect_data_report(synthground_root, cache, str(tmp_path / 'no-detector'))
    table = dr.DataReportTable('t', 'd', 'splits', 'results/no-such-report.json')
    assert table.render(results_root=str(tmp_path)).startswith('not run: ')


def test_report_paths_of_builds():
    assert dr.report_path('data/synthground/') == dr.DATA_REPORT
    assert dr.default_detector_work_dir('data/synthground') == f'work_dirs/{dr.DETECTOR}'
    assert dr.default_detector_work_dir('data/synthground-seed1/') == (
        f'work_dirs/data/synthground-seed1/{dr.DETECTOR}')
