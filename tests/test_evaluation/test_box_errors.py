"""The box error analysis on hand-placed boxes (every IoU below is worked out by hand)."""

import pytest
import torch
from mmengine.structures import InstanceData

from mmgrounding.evaluation.functional.box_errors import box_error_kind
from mmgrounding.evaluation.metrics import BoxErrorMetric
from mmgrounding.structures import GroundingDataSample

GT = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
# an object far from the ground truth, and a proposal on the ground truth
FAR = torch.tensor([50.0, 50.0, 60.0, 60.0])


def t(*rows):
    return torch.tensor(rows, dtype=torch.float32)


def test_the_kinds_and_the_strict_threshold():
    none = torch.zeros((0, 4)), torch.zeros(0, dtype=torch.long)
    assert box_error_kind(GT[0], GT, *none)['kind'] == 'correct'
    # [0, 0, 10, 5] against GT: intersection 50, union 100, IoU exactly 0.5
    half = torch.tensor([0.0, 0.0, 10.0, 5.0])
    assert box_error_kind(half, GT, *none)['iou'] == pytest.approx(0.5)
    assert box_error_kind(half, GT, *none)['kind'] == 'poor_box'  # strict: IoU > 0.5
    assert box_error_kind(half, GT, *none, strict_iou=False)['kind'] == 'correct'
    # [0, 0, 10, 0.5]: IoU 0.05, below near_thr: another object
    thin = torch.tensor([0.0, 0.0, 10.0, 0.5])
    assert box_error_kind(thin, GT, *none)['kind'] == 'other_object'
    # [0, 0, 10, 2]: IoU 0.2
    assert box_error_kind(torch.tensor([0.0, 0.0, 10.0, 2.0]), GT, *none)['kind'] == 'poor_box'
    # the best of several ground-truth boxes counts
    assert box_error_kind(GT[0], torch.cat([FAR[None], GT]), *none)['kind'] == 'correct'
    out = box_error_kind(FAR, GT, *none)
    assert out == dict(kind='other_object', iou=0.0, same_label_holds=False, oracle=False)


def test_same_label_and_oracle():
    proposals = torch.stack([FAR + 1, GT[0] + 1])  # IoU with FAR 81/119; with GT 81/119 > 0.5
    same = box_error_kind(FAR, GT, proposals, torch.tensor([3, 3]))
    assert same['kind'] == 'other_object' and same['same_label_holds'] and same['oracle']
    other = box_error_kind(FAR, GT, proposals, torch.tensor([3, 4]))
    assert not other['same_label_holds'] and other['oracle']
    # the answer's proposal is the one it overlaps most: here the one on the ground truth
    near = box_error_kind(GT[0] + 1, GT, proposals, torch.tensor([3, 4]))
    assert near['kind'] == 'correct' and near['same_label_holds']
    # no proposal correct: neither flag
    miss = box_error_kind(FAR, GT, proposals[:1], torch.tensor([3]))
    assert not miss['same_label_holds'] and not miss['oracle']


def test_bad_arguments():
    with pytest.raises(ValueError, match='ground-truth'):
        box_error_kind(FAR, torch.zeros((0, 4)), torch.zeros((0, 4)), torch.zeros(0))
    with pytest.raises(ValueError, match='near_thr'):
        box_error_kind(FAR, GT, torch.zeros((0, 4)), torch.zeros(0), near_thr=0.5)
    with pytest.raises(ValueError, match='near_thr'):
        BoxErrorMetric(near_thr=0.6)


def sample(answers, gt_boxes, gt_labels, proposals, labels, name='a.jpg'):
    s = GroundingDataSample(metainfo=dict(img_path=name, ori_shape=(100, 100)))
    s.gt_instances = InstanceData(bboxes=gt_boxes, labels=torch.tensor(gt_labels))
    s.proposals = InstanceData(bboxes=proposals, labels=torch.tensor(labels))
    s.pred_boxes = answers[:, None]
    return s


def test_metric_shares():
    proposals = torch.stack([FAR + 1, GT[0] + 1])
    # image 1: phrase 0 correct, phrase 1 another object whose label holds its box,
    # phrase 2 without a box (not counted)
    one = sample(
        t(GT[0].tolist(), FAR.tolist(), FAR.tolist()),
        torch.cat([GT, GT]),
        [0, 1],
        proposals,
        [3, 3],
    )
    # image 2: a poor box (IoU 0.2) whose proposal, [0, 0, 10, 3] (IoU 20/30 with it, 0.3 with
    # the ground truth), has a label (5) no correct proposal has
    proposals_two = torch.cat([proposals, t([0.0, 0.0, 10.0, 3.0])])
    two = sample(t([0.0, 0.0, 10.0, 2.0]), GT, [0], proposals_two, [3, 4, 5], name='b.jpg')
    metric = BoxErrorMetric()
    metric.process({}, [one.to_dict(), two])  # as a dict (the evaluator's form) and as a sample
    assert len(metric.results) == 2  # one entry per sample, as the evaluator truncates them
    out = metric.compute_metrics(metric.results)
    third = 100.0 / 3
    assert out == pytest.approx(
        dict(
            correct=third,
            poor_box=third,
            poor_box_same_label=0.0,
            other_object=third,
            other_object_same_label=third,
            oracle=100.0,
            phrases=3.0,
        )
    )


def test_metric_names_the_sample_without_proposals():
    s = GroundingDataSample(metainfo=dict(img_path='x.jpg'))
    s.pred_boxes = GT[:, None]
    with pytest.raises(KeyError, match='x.jpg.*proposals'):
        BoxErrorMetric().process({}, [s])
