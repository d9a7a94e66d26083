import pytest
import torch
from mmengine.structures import InstanceData

from mmgrounding.registry import METRICS
from mmgrounding.structures import GroundingDataSample


def make_sample():
    """A 100x200 (H x W) image with two phrases.

    Phrase 0 ('a dog', type animals) owns box [0, 0, 50, 50]; phrase 1 ('two men', types
    people/other) owns [100, 0, 150, 50] and [150, 50, 200, 100].
    """
    sample = GroundingDataSample()
    sample.set_metainfo(
        dict(ori_shape=(100, 200), img_path='x.jpg', phrases=['a dog', 'two men'],
             phrase_types=[['animals'], ['people', 'other']]))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[0., 0., 50., 50.], [100., 0., 150., 50.],
                             [150., 50., 200., 100.]]),
        labels=torch.tensor([0, 1, 1]))
    return sample


def test_pointing_metric_heatmaps_per_type():
    sample = make_sample()
    heat = torch.zeros(2, 4, 4)  # cells are 50 x 25 px (W x H)
    heat[0, 0, 0] = 1  # point (25, 12.5): inside phrase 0's box -> hit
    heat[1, 3, 0] = 1  # point (25, 87.5): outside both boxes of phrase 1 -> miss
    sample.pred_heatmaps = heat
    metric = METRICS.build(dict(type='PointingGameMetric'))
    metric.process({}, [sample.to_dict()])
    result = metric.evaluate(1)
    # 1 hit of 2 phrases -> 50 %; per type: animals 1/1, people 0/1, other 0/1
    assert result == {'pointing/accuracy': 50.0, 'pointing/animals': 100.0,
                      'pointing/other': 0.0, 'pointing/people': 0.0}


def test_pointing_metric_box_source_uses_top_box_centre():
    sample = make_sample()
    sample.pred_boxes = torch.tensor([[[0., 0., 10., 10.], [300., 300., 310., 310.]],
                                      [[160., 60., 180., 80.], [0., 0., 1., 1.]]])
    sample.pred_scores = torch.ones(2, 2)
    metric = METRICS.build(dict(type='PointingGameMetric', source='box', per_type=False))
    metric.process({}, [sample.to_dict()])
    # centres (5, 5) and (170, 70): both inside a box of their phrase
    assert metric.evaluate(1) == {'pointing/accuracy': 100.0}


def test_pointing_metric_requires_the_prediction_it_is_told_to_use():
    metric = METRICS.build(dict(type='PointingGameMetric', source='heatmap'))
    with pytest.raises(KeyError, match='pred_heatmaps'):
        metric.process({}, [make_sample().to_dict()])


def test_box_recall_metric():
    sample = make_sample()
    sample.pred_boxes = torch.tensor([
        [[60., 60., 90., 90.], [0., 0., 50., 40.]],  # phrase 0: hit at rank 2 (IoU 0.8)
        [[100., 0., 150., 50.], [0., 0., 1., 1.]],  # phrase 1: hit at rank 1 (any protocol)
    ])
    sample.pred_scores = torch.ones(2, 2)
    metric = METRICS.build(dict(type='BoxRecallMetric', topk=(1, 2)))
    metric.process({}, [sample.to_dict()])
    assert metric.evaluate(1) == {'box_recall/R@1': 50.0, 'box_recall/R@2': 100.0}
    # union protocol: phrase 1's union box [100, 0, 200, 100] has IoU 2500/10000 with its
    # top box -> miss; phrase 0 unchanged.
    metric = METRICS.build(dict(type='BoxRecallMetric', topk=(1, 2), protocol='union'))
    metric.process({}, [sample.to_dict()])
    assert metric.evaluate(1) == {'box_recall/R@1': 0.0, 'box_recall/R@2': 50.0}


def test_box_recall_metric_without_boxes():
    metric = METRICS.build(dict(type='BoxRecallMetric'))
    with pytest.raises(KeyError, match='no pred_boxes'):
        metric.process({}, [make_sample().to_dict()])
    # a heatmap-only model: no R@k keys, not an error
    metric = METRICS.build(dict(type='BoxRecallMetric', allow_no_boxes=True))
    metric.process({}, [make_sample().to_dict(), make_sample().to_dict()])
    assert metric.evaluate(2) == {}
    # boxes for some samples only: refused, the recall would skip phrases
    boxed = make_sample()
    boxed.pred_boxes = torch.zeros(2, 1, 4)
    metric = METRICS.build(dict(type='BoxRecallMetric', allow_no_boxes=True))
    metric.process({}, [boxed.to_dict(), make_sample().to_dict()])
    with pytest.raises(KeyError, match='1 of 2 samples have no pred_boxes'):
        metric.evaluate(2)
