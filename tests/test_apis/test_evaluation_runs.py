"""Evaluation runs: the protocol of a metric, the test dataset of a benchmark split."""

import json

from mmgrounding.apis import evaluation_runs as ev
from mmgrounding.evaluation.metrics import BoxRecallMetric, PointingGameMetric


def test_metric_protocol_is_read_from_the_metric_object():
    recall = ev.metric_protocol(BoxRecallMetric(iou_thr=0.5, protocol='union'))
    assert recall['metric'] == 'BoxRecallMetric'
    assert recall['settings']['iou_thr'] == 0.5 and recall['settings']['protocol'] == 'union'
    assert not {'topk', 'allow_no_boxes', 'collect_device', 'prefix'} & set(recall['settings'])
    pointing = ev.metric_protocol(PointingGameMetric(tolerance=2.0))
    assert pointing['settings']['tolerance'] == 2.0


def test_the_referit_column_reads_the_builds_own_split(tmp_path):
    (tmp_path / 'v1').mkdir()
    (tmp_path / 'v1' / 'meta.json').write_text(json.dumps(dict(counts=dict(refcoco={}))))
    (tmp_path / 'v2').mkdir()
    (tmp_path / 'v2' / 'meta.json').write_text(json.dumps(dict(counts=dict(referit={}))))
    dataset, _ = ev.benchmark_dataset('ReferIt', 'synthground', str(tmp_path / 'v1') + '/')
    # v1: the RefCOCO refs read by the ReferIt loader, val split
    assert dataset['type'] == 'ReferItGameDataset' and dataset['split'] == 'val'
    assert dataset['ann_file'] == 'refcoco/instances.json'
    dataset, _ = ev.benchmark_dataset('ReferIt', 'synthground', str(tmp_path / 'v2') + '/')
    assert dataset['ann_file'] == 'referit/refclef/instances.json'
    assert dataset['refs_file'] == 'referit/refclef/refs(berkeley).p'
    assert dataset['split'] == 'test' and dataset['data_root'] == str(tmp_path / 'v2') + '/'
