"""Proposal ranking from heatmaps (AMC Table 3): mass inside the box / area ** power."""
import torch

from mmgrounding.models.grounders.utils import rank_boxes_by_heatmap


def test_mass_over_root_area_by_hand():
    # 4x4 map over a 4x4 image (bilinear resizing to the same size is the identity), ones in
    # the top-left 2x2 block:
    #   A [0, 0, 2, 2]: mass 4, area 4  -> 4 / 2      = 2
    #   D [0, 0, 1, 2]: mass 2, area 2  -> 2 / 1.414  = 1.414
    #   B [0, 0, 4, 4]: mass 4, area 16 -> 4 / 4      = 1
    #   C [2, 2, 4, 4]: mass 0          -> 0
    heatmap = torch.zeros(1, 4, 4)
    heatmap[0, :2, :2] = 1
    boxes = torch.tensor([[0., 0., 4., 4.], [2., 2., 4., 4.], [0., 0., 2., 2.], [0., 0., 1., 2.]])
    ranked, scores = rank_boxes_by_heatmap(heatmap, boxes, (4, 4))
    torch.testing.assert_close(scores, torch.tensor([[2., 2**0.5, 1., 0.]]))
    torch.testing.assert_close(ranked[0], boxes[[2, 3, 0, 1]])


def test_area_power_one_is_the_mean_inside_the_box():
    # power 1: A 4/4 = 1, D 2/2 = 1, B 4/16 = 0.25; the whole-image box loses its lead
    heatmap = torch.zeros(1, 4, 4)
    heatmap[0, :2, :2] = 1
    boxes = torch.tensor([[0., 0., 4., 4.], [0., 0., 2., 2.]])
    _, scores = rank_boxes_by_heatmap(heatmap, boxes, (4, 4), area_power=1.0)
    torch.testing.assert_close(scores, torch.tensor([[1., 0.25]]))


def test_coarse_grid_is_upsampled_to_the_image_and_phrases_rank_independently():
    # a 2x2 grid over an 8x8 image; phrase 0 lights the left half, phrase 1 the right half
    heatmaps = torch.tensor([[[1., 0.], [1., 0.]], [[0., 1.], [0., 1.]]])
    left, right = [0., 0., 3., 8.], [5., 0., 8., 8.]
    ranked, scores = rank_boxes_by_heatmap(heatmaps, torch.tensor([left, right]), (8, 8))
    assert ranked[0, 0].tolist() == left and ranked[1, 0].tolist() == right
    assert (scores[:, 0] > scores[:, 1]).all()


def test_no_boxes_or_no_phrases_give_empty_rankings():
    ranked, scores = rank_boxes_by_heatmap(torch.ones(2, 3, 3), torch.zeros(0, 4), (6, 6))
    assert ranked.shape == (2, 0, 4) and scores.shape == (2, 0)
    ranked, scores = rank_boxes_by_heatmap(torch.ones(0, 3, 3), torch.ones(5, 4), (6, 6))
    assert ranked.shape == (0, 5, 4) and scores.shape == (0, 5)
