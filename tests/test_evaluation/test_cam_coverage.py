"""CAM coverage of a phrase's box (CAM-WSVG's attention-mining measure): pure and metric."""

import pytest
import torch
from mmengine.structures import InstanceData

from mmgrounding.evaluation.functional.cam_coverage import box_mask, cam_box_coverage
from mmgrounding.registry import METRICS
from mmgrounding.structures import GroundingDataSample


def test_box_mask_counts_pixel_centres():
    # pixel centres 0.5 .. 3.5; a box [1, 1, 3, 2] holds x centres 1.5, 2.5 and y centre 1.5
    mask = box_mask(torch.tensor([[1.0, 1.0, 3.0, 2.0]]), (4, 4))
    assert mask.sum() == 2 and bool(mask[1, 1]) and bool(mask[1, 2])


def test_cam_box_coverage_hand_values():
    # a 2x2 map on a 4x4 image, only the top-left cell 1: the bilinear upsampling
    # (align_corners=False) gives rows [1, .75, .25, 0], [.75, .5625, .1875, 0], ..., so the
    # pixels >= 0.5 are the top-left 2x2 block
    cam = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    # box = the left half (8 pixels): R (4 pixels) covers 4 / 8, nothing of R is outside
    coverage, outside = cam_box_coverage(cam, torch.tensor([[0.0, 0.0, 2.0, 4.0]]), (4, 4))
    assert coverage == pytest.approx(0.5) and outside == 0.0
    # box = the top-left pixel only: covered fully, 3 of R's 4 pixels lie outside
    coverage, outside = cam_box_coverage(cam, torch.tensor([[0.0, 0.0, 1.0, 1.0]]), (4, 4))
    assert coverage == pytest.approx(1.0) and outside == pytest.approx(0.75)
    # an empty region: nothing covered, and no region outside either
    coverage, outside = cam_box_coverage(
        torch.zeros(2, 2), torch.tensor([[0.0, 0.0, 2.0, 2.0]]), (4, 4)
    )
    assert (coverage, outside) == (0.0, 0.0)
    with pytest.raises(ValueError):
        cam_box_coverage(cam, torch.zeros((0, 4)), (4, 4))


def test_cam_coverage_metric_before_and_after():
    """Two phrases on a 4x4 image; the refined map covers the first phrase's whole box."""
    sample = GroundingDataSample()
    sample.set_metainfo(dict(ori_shape=(4, 4), img_path='x.jpg', phrases=['a star', 'shape']))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[0.0, 0.0, 2.0, 4.0], [0.0, 0.0, 4.0, 4.0]]),
        labels=torch.tensor([0, 1]),
    )
    raw = torch.zeros(2, 2, 2)
    raw[0, 0, 0] = 1.0  # covers half of the left-half box (see the pure test)
    refined = raw.clone()
    refined[0, 1, 0] = 1.0  # the whole left column of cells: the left half, all of the box
    sample.pred_cam_raw = raw  # phrase 1's map is zero: no class, skipped
    sample.pred_heatmaps = refined
    metric = METRICS.build(dict(type='CAMCoverageMetric'))
    metric.process({}, [sample.to_dict()])
    result = metric.evaluate(1)
    assert result['cam_coverage/raw/coverage'] == pytest.approx(50.0)
    assert result['cam_coverage/refined/coverage'] == pytest.approx(100.0)
    assert result['cam_coverage/refined/outside'] == 0.0
    assert result['cam_coverage/raw/phrases'] == 1.0
    assert result['cam_coverage/raw/skipped'] == 1.0
    del sample.pred_heatmaps
    metric = METRICS.build(dict(type='CAMCoverageMetric'))
    with pytest.raises(KeyError, match='pred_heatmaps'):
        metric.process({}, [sample.to_dict()])
