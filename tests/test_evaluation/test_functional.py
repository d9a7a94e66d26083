import pytest
import torch

from mmgrounding.evaluation.functional import (
    box_centres,
    box_recall_hits,
    heatmap_peaks,
    pointing_hits,
    union_box,
)


def test_heatmap_peaks_maps_cells_to_pixel_centres():
    # 2x4 grid over a 100x200 (H x W) image: cells are 50 px wide and 50 px tall.
    heat = torch.zeros(2, 2, 4)
    heat[0, 1, 2] = 1.0  # row 1, col 2 -> x = 2.5 * 50 = 125, y = 1.5 * 50 = 75
    heat[1, 0, 0] = 3.0  # row 0, col 0 -> (25, 25)
    points = heatmap_peaks(heat, (100, 200))
    assert points.tolist() == [[125.0, 75.0], [25.0, 25.0]]


def test_heatmap_peaks_ties_take_the_first_cell_and_nan_raises():
    heat = torch.ones(1, 3, 3)
    assert heatmap_peaks(heat, (30, 30)).tolist() == [[5.0, 5.0]]
    heat[0, 1, 1] = float('nan')
    with pytest.raises(ValueError, match='NaN'):
        heatmap_peaks(heat, (30, 30))


def test_pointing_hits_any_box_of_the_phrase():
    points = torch.tensor([[10., 10.], [50., 50.], [90., 90.]])
    # phrase 0 owns two boxes (the second contains its point); phrase 1 one box that
    # misses; phrase 2 none.
    boxes = torch.tensor([[0., 0., 5., 5.], [8., 8., 12., 12.], [0., 0., 40., 40.]])
    owner = torch.tensor([0, 0, 1])
    assert pointing_hits(points, boxes, owner).tolist() == [True, False, False]
    # with 10 px tolerance phrase 1's point (50, 50) is inside [−10, −10, 50, 50]
    assert pointing_hits(points, boxes, owner, tolerance=10).tolist() == [True, True, False]


def test_pointing_hits_border_counts_and_empty_inputs():
    points = torch.tensor([[40., 0.]])
    boxes = torch.tensor([[0., 0., 40., 40.]])
    assert pointing_hits(points, boxes, torch.tensor([0])).tolist() == [True]
    assert pointing_hits(points, torch.zeros(0, 4), torch.zeros(0, dtype=torch.long)).tolist() \
        == [False]


def test_box_centres_and_union():
    boxes = torch.tensor([[0., 0., 10., 20.], [5., 5., 30., 10.]])
    assert box_centres(boxes).tolist() == [[5.0, 10.0], [17.5, 7.5]]
    assert union_box(boxes).tolist() == [0.0, 0.0, 30.0, 20.0]


def test_box_recall_ranks_and_protocols():
    gt = torch.tensor([[0., 0., 10., 10.], [20., 0., 30., 10.]])
    ranked = torch.tensor([
        [50., 50., 60., 60.],  # rank 1: IoU 0 with both
        [0., 0., 10., 8.],  # rank 2: IoU 80/100 = 0.8 with gt[0]
        [0., 0., 30., 10.],  # rank 3: the union box, IoU 1 with the union
    ])
    hits = box_recall_hits(ranked, gt, (1, 2, 3), protocol='any')
    assert hits.tolist() == [False, True, True]
    # union of gt = [0, 0, 30, 10] (area 300): rank 2 has IoU 80/300 < 0.5, rank 3 IoU 1.
    hits = box_recall_hits(ranked, gt, (1, 2, 3), protocol='union')
    assert hits.tolist() == [False, False, True]


def test_box_recall_threshold_is_inclusive_and_rejects_unknown_protocol():
    gt = torch.tensor([[0., 0., 10., 10.]])
    half = torch.tensor([[0., 0., 10., 5.]])  # IoU = 50 / 100 = 0.5 exactly
    assert box_recall_hits(half, gt, (1, )).tolist() == [True]
    assert box_recall_hits(torch.zeros(0, 4), gt, (1, )).tolist() == [False]
    # fewer ranked boxes than k, none correct: a miss at every k
    far = torch.tensor([[50., 50., 60., 60.]])
    assert box_recall_hits(far, gt, (1, 5, 10)).tolist() == [False, False, False]
    with pytest.raises(ValueError, match='protocol'):
        box_recall_hits(half, gt, (1, ), protocol='mean')
