"""The named pointing-game protocols and the strict box accuracy on hand-placed inputs."""

import pytest
import torch
from mmengine.structures import InstanceData

from mmgrounding.evaluation.functional import (
    POINTING_PROTOCOLS,
    box_recall_hits,
    heatmap_peaks,
    pointing_hits,
    protocol_pointing_hits,
    union_boxes_per_phrase,
    upsampled_heatmap_peaks,
)
from mmgrounding.registry import METRICS
from mmgrounding.structures import GroundingDataSample


def corner_map():
    """A 2x2 map over a 100x100 image whose only mass is in cell (row 0, col 1).

    Bicubic upsampling (a = -0.75, align_corners=False) is separable: the map is the outer
    product of the column [1, 0] and the row [0, 1]. Upsampled, the row [0, 1] at source
    position s in (1, 2) (beyond the last cell centre, border replicated) is
    0 * w(s) + 1 * (1 - w(s)) = 1 - w(s), where w(x) = a|x|^3 - 5a|x|^2 + 8a|x| - 4a; w' = 0 at
    x = 4/3, where w = -1/9 < 0, so the row's maximum 1.11 sits at s = 4/3. Output pixel x
    samples s = (x + 0.5) * 2 / 100 - 0.5, so s = 4/3 at x = 91.17: pixel 91 (s = 1.3300)
    beats pixel 92 (s = 1.3500). The column [1, 0] mirrors it: s = -1/3 at y = 7.83, pixel 8.
    Both factors are positive there and their negative lobes are only -1/9, so the product
    peaks at (x, y) = (91, 8), not at the cell centre (75, 25) of the grid protocol.
    """
    heat = torch.zeros(1, 2, 2)
    heat[0, 0, 1] = 1.0
    return heat


def test_upsampled_peak_is_the_bicubic_overshoot_pixel():
    assert upsampled_heatmap_peaks(corner_map(), (100, 100)).tolist() == [[91.0, 8.0]]
    assert heatmap_peaks(corner_map(), (100, 100)).tolist() == [[75.0, 25.0]]


def test_upsampled_peak_ties_take_the_first_pixel_and_nan_raises():
    # an all-zero map upsamples to exact zeros: every pixel ties, the first pixel in
    # row-major order is (0, 0) (a constant non-zero map is not exact in float arithmetic)
    assert upsampled_heatmap_peaks(torch.zeros(1, 3, 3), (30, 40)).tolist() == [[0.0, 0.0]]
    assert upsampled_heatmap_peaks(torch.zeros(0, 3, 3), (30, 40)).shape == (0, 2)
    heat = torch.ones(1, 3, 3)
    heat[0, 2, 2] = float('nan')
    with pytest.raises(ValueError, match='NaN'):
        upsampled_heatmap_peaks(heat, (30, 40))


def test_strict_pointing_excludes_borders():
    points = torch.tensor([[40.0, 20.0], [39.5, 0.5], [20.0, 20.0]])
    boxes = torch.tensor([[0.0, 0.0, 40.0, 40.0]] * 3)
    owner = torch.tensor([0, 1, 2])
    # (40, 20) lies on the right border: inclusive hit, strict miss; the others are inside
    assert pointing_hits(points, boxes, owner).tolist() == [True, True, True]
    assert pointing_hits(points, boxes, owner, strict=True).tolist() == [False, True, True]
    # the tolerance enlarges the box first: x = 40 < 40 + 1
    assert pointing_hits(points, boxes, owner, strict=True, tolerance=1).tolist() == [
        True,
        True,
        True,
    ]


def test_amc_official_against_grid():
    gt = torch.tensor([[80.0, 0.0, 100.0, 20.0]])
    owner = torch.tensor([0])
    # amc_official: (91, 8) strictly inside [80, 0, 100, 20]; grid: (75, 25) outside
    assert protocol_pointing_hits(
        'amc_official', gt, owner, (100, 100), heatmaps=corner_map()
    ).tolist() == [True]
    assert protocol_pointing_hits(
        'grid', gt, owner, (100, 100), heatmaps=corner_map()
    ).tolist() == [False]
    # x = 91 on the left border of [91, 0, 100, 20]: a strict miss
    border = torch.tensor([[91.0, 0.0, 100.0, 20.0]])
    assert protocol_pointing_hits(
        'amc_official', border, owner, (100, 100), heatmaps=corner_map()
    ).tolist() == [False]
    with pytest.raises(ValueError, match='needs heatmaps'):
        protocol_pointing_hits(
            'amc_official', gt, owner, (100, 100), top_boxes_xyxy=torch.zeros(1, 4)
        )


def test_infoground_top_box_centre_strictly_inside():
    top = torch.tensor(
        [[0.0, 0.0, 20.0, 20.0], [30.0, 30.0, 50.0, 50.0]]
    )  # centres (10, 10), (40, 40)
    gt = torch.tensor([[10.0, 0.0, 30.0, 30.0], [0.0, 0.0, 5.0, 5.0], [35.0, 35.0, 45.0, 45.0]])
    owner = torch.tensor([0, 1, 1])
    # phrase 0: centre x = 10 on the left border -> infoground miss, grid hit;
    # phrase 1: (40, 40) strictly inside its second box -> hit under both
    assert protocol_pointing_hits(
        'infoground', gt, owner, (60, 60), top_boxes_xyxy=top
    ).tolist() == [False, True]
    assert protocol_pointing_hits('grid', gt, owner, (60, 60), top_boxes_xyxy=top).tolist() == [
        True,
        True,
    ]
    # InfoGround ignores a heatmap: its point is always the top box's centre
    heat = torch.zeros(2, 2, 2)
    assert protocol_pointing_hits(
        'infoground', gt, owner, (60, 60), heatmaps=heat, top_boxes_xyxy=top
    ).tolist() == [False, True]


def test_reir_union_box_with_borders():
    # phrase 0 has two boxes side by side, union [0, 0, 30, 10]; phrase 1 one box;
    # phrase 2 none.
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 30.0, 10.0], [50.0, 50.0, 60.0, 60.0]])
    owner = torch.tensor([0, 0, 1])
    unions, union_owner = union_boxes_per_phrase(gt, owner, 3)
    assert unions.tolist() == [[0.0, 0.0, 30.0, 10.0], [50.0, 50.0, 60.0, 60.0]]
    assert union_owner.tolist() == [0, 1]
    # top boxes: phrase 0 centre (15, 5) lies between the two boxes, inside their union;
    # phrase 1 centre (60, 55) on the right border of its box; phrase 2 has no ground truth
    top = torch.tensor([[10.0, 0.0, 20.0, 10.0], [55.0, 50.0, 65.0, 60.0], [0.0, 0.0, 4.0, 4.0]])
    assert protocol_pointing_hits('reir', gt, owner, (80, 80), top_boxes_xyxy=top).tolist() == [
        True,
        True,
        False,
    ]
    # any box, borders included (grid): (15, 5) is in neither box of phrase 0
    assert protocol_pointing_hits('grid', gt, owner, (80, 80), top_boxes_xyxy=top).tolist() == [
        False,
        True,
        False,
    ]
    # any box, strict (infoground): phrase 1's border point misses too
    assert protocol_pointing_hits(
        'infoground', gt, owner, (80, 80), top_boxes_xyxy=top
    ).tolist() == [False, False, False]


def test_unknown_protocol_is_refused():
    with pytest.raises(ValueError, match='pointing protocol must be one of'):
        protocol_pointing_hits(
            'pointing15',
            torch.zeros(0, 4),
            torch.zeros(0).long(),
            (1, 1),
            heatmaps=torch.zeros(0, 1, 1),
        )
    assert set(POINTING_PROTOCOLS) == {'grid', 'amc_official', 'infoground', 'reir'}


def test_strict_box_accuracy():
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    half = torch.tensor([[0.0, 0.0, 10.0, 5.0]])  # IoU = 50 / 100 = 0.5 exactly
    assert box_recall_hits(half, gt, (1,)).tolist() == [True]
    assert box_recall_hits(half, gt, (1,), strict_iou=True).tolist() == [False]
    # 0.51 > 0.5: IoU = 51 / 100
    above = torch.tensor([[0.0, 0.0, 10.0, 5.1]])
    assert box_recall_hits(above, gt, (1,), strict_iou=True).tolist() == [True]
    # union protocol with the strict rule: two boxes [0,0,10,10] and [10,0,20,10], union
    # [0, 0, 20, 10] (area 200); the prediction [0, 0, 10, 10] has IoU 100 / 200 = 0.5
    two = torch.tensor([[0.0, 0.0, 10.0, 10.0], [10.0, 0.0, 20.0, 10.0]])
    pred = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    assert box_recall_hits(pred, two, (1,), protocol='union').tolist() == [True]
    assert box_recall_hits(pred, two, (1,), protocol='union', strict_iou=True).tolist() == [False]


def sample_with_both():
    """A 100x100 image, one phrase with box [80, 0, 100, 20], the corner map and a top box
    [70, 20, 80, 30] (centre (75, 25))."""
    sample = GroundingDataSample()
    sample.set_metainfo(
        dict(ori_shape=(100, 100), img_path='y.jpg', phrases=['a cat'], phrase_types=[['animals']])
    )
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[80.0, 0.0, 100.0, 20.0]]), labels=torch.tensor([0])
    )
    sample.pred_heatmaps = corner_map()
    sample.pred_boxes = torch.tensor([[[70.0, 20.0, 80.0, 30.0]]])
    sample.pred_scores = torch.ones(1, 1)
    return sample


@pytest.mark.parametrize(
    'protocol,expected',
    [('amc_official', 100.0), ('grid', 0.0), ('infoground', 0.0), ('reir', 0.0)],
)
def test_pointing_metric_protocols_through_the_registry(protocol, expected):
    # amc_official reads the heatmap ((91, 8): hit); grid reads the heatmap too ((75, 25):
    # miss); infoground/reir read the top box, centre (75, 25): miss
    metric = METRICS.build(dict(type='PointingGameMetric', protocol=protocol, per_type=False))
    metric.process({}, [sample_with_both().to_dict()])
    assert metric.evaluate(1) == {'pointing/accuracy': expected}


def test_pointing_metric_protocol_errors():
    with pytest.raises(ValueError, match='only for the grid protocol'):
        METRICS.build(dict(type='PointingGameMetric', protocol='infoground', source='box'))
    with pytest.raises(ValueError, match='pointing protocol must be one of'):
        METRICS.build(dict(type='PointingGameMetric', protocol='amc'))
    sample = sample_with_both()
    del sample.pred_heatmaps
    metric = METRICS.build(dict(type='PointingGameMetric', protocol='amc_official'))
    with pytest.raises(KeyError, match="no pred_heatmaps \\(pointing protocol 'amc_official'"):
        metric.process({}, [sample.to_dict()])


def test_box_recall_metric_strict_iou():
    sample = sample_with_both()
    sample.pred_boxes = torch.tensor([[[80.0, 0.0, 100.0, 10.0]]])  # IoU 200 / 400 = 0.5
    metric = METRICS.build(dict(type='BoxRecallMetric', topk=(1,)))
    metric.process({}, [sample.to_dict()])
    assert metric.evaluate(1) == {'box_recall/R@1': 100.0}
    metric = METRICS.build(dict(type='BoxRecallMetric', topk=(1,), strict_iou=True))
    metric.process({}, [sample.to_dict()])
    assert metric.evaluate(1) == {'box_recall/R@1': 0.0}
