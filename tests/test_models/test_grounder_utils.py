"""Proposal ranking from heatmaps (AMC Table 3): mass inside the box / area ** power."""

import pytest
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
    boxes = torch.tensor(
        [[0.0, 0.0, 4.0, 4.0], [2.0, 2.0, 4.0, 4.0], [0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 1.0, 2.0]]
    )
    ranked, scores = rank_boxes_by_heatmap(heatmap, boxes, (4, 4))
    torch.testing.assert_close(scores, torch.tensor([[2.0, 2**0.5, 1.0, 0.0]]))
    torch.testing.assert_close(ranked[0], boxes[[2, 3, 0, 1]])


def test_area_power_one_is_the_mean_inside_the_box():
    # power 1: A 4/4 = 1, D 2/2 = 1, B 4/16 = 0.25; the whole-image box loses its lead
    heatmap = torch.zeros(1, 4, 4)
    heatmap[0, :2, :2] = 1
    boxes = torch.tensor([[0.0, 0.0, 4.0, 4.0], [0.0, 0.0, 2.0, 2.0]])
    _, scores = rank_boxes_by_heatmap(heatmap, boxes, (4, 4), area_power=1.0)
    torch.testing.assert_close(scores, torch.tensor([[1.0, 0.25]]))


def test_coarse_grid_is_upsampled_to_the_image_and_phrases_rank_independently():
    # a 2x2 grid over an 8x8 image; phrase 0 lights the left half, phrase 1 the right half
    heatmaps = torch.tensor([[[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]])
    left, right = [0.0, 0.0, 3.0, 8.0], [5.0, 0.0, 8.0, 8.0]
    ranked, scores = rank_boxes_by_heatmap(heatmaps, torch.tensor([left, right]), (8, 8))
    assert ranked[0, 0].tolist() == left and ranked[1, 0].tolist() == right
    assert (scores[:, 0] > scores[:, 1]).all()


def test_no_boxes_or_no_phrases_give_empty_rankings():
    ranked, scores = rank_boxes_by_heatmap(torch.ones(2, 3, 3), torch.zeros(0, 4), (6, 6))
    assert ranked.shape == (2, 0, 4) and scores.shape == (2, 0)
    ranked, scores = rank_boxes_by_heatmap(torch.ones(0, 3, 3), torch.ones(5, 4), (6, 6))
    assert ranked.shape == (0, 5, 4) and scores.shape == (0, 5)


def test_amc_official_rule_truncates_the_corners():
    # the 4x4 map of test_mass_over_root_area_by_hand (bicubic resizing to the same size is
    # the identity too), box [0.5, 0.5, 1.5, 1.5] (area 1):
    #   official: rows/cols int(0.5):int(1.5) = 0:1 -> mass 1 -> 1 / 1 = 1
    #   cover:    rows/cols floor(0.5):ceil(1.5) = 0:2 -> mass 4 -> 4
    heatmap = torch.zeros(1, 4, 4)
    heatmap[0, :2, :2] = 1
    box = torch.tensor([[0.5, 0.5, 1.5, 1.5]])
    _, official = rank_boxes_by_heatmap(heatmap, box, (4, 4), rule='amc_official')
    _, cover = rank_boxes_by_heatmap(heatmap, box, (4, 4))
    torch.testing.assert_close(official, torch.tensor([[1.0]]))
    torch.testing.assert_close(cover, torch.tensor([[4.0]]))


def test_amc_official_rule_upsamples_bicubically():
    # a 2x2 map [[1, 0], [1, 0]] over a 4x4 image. Each row is [1, 0] resized to 4 with
    # align_corners=False: source x = (i + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25.
    # Bicubic (A = -0.75, indices clamped at the border), weights of the distances
    # 0.25 / 0.75 / 1.25 / 1.75: 225/256, 67/256, -27/256, -9/256, so
    #   column 0: 1 * (-9 + 67 + 225) / 256 + 0 = 283/256, column 3: -27/256;
    # bilinear (clamped): column 0: 1, column 3: 0.
    # Box [0, 0, 1, 4] (column 0): mass 4 * 283/256, area 4 -> / 2 = 2.2109375 (bilinear 2);
    # box [3, 0, 4, 4] (column 3): 4 * -27/256 / 2 = -0.2109375 (bilinear 0).
    heatmap = torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])
    boxes = torch.tensor([[3.0, 0.0, 4.0, 4.0], [0.0, 0.0, 1.0, 4.0]])
    ranked, official = rank_boxes_by_heatmap(heatmap, boxes, (4, 4), rule='amc_official')
    torch.testing.assert_close(official, torch.tensor([[2.2109375, -0.2109375]]))
    torch.testing.assert_close(ranked[0], boxes[[1, 0]])
    _, cover = rank_boxes_by_heatmap(heatmap, boxes, (4, 4))
    torch.testing.assert_close(cover, torch.tensor([[2.0, 0.0]]))


def test_amc_official_rule_keeps_the_first_of_equal_scores():
    # [0, 0, 2, 1] and [0, 0, 1, 2] over the top-left block of ones: mass 2, area 2 -> 2**0.5
    # each, above an empty corner box (0); the official loop (score > max_score) keeps the
    # first of the two it meets, whichever order they come in
    heatmap = torch.zeros(1, 4, 4)
    heatmap[0, :2, :2] = 1
    wide, tall, corner = [0.0, 0.0, 2.0, 1.0], [0.0, 0.0, 1.0, 2.0], [3.0, 3.0, 4.0, 4.0]
    for first, second in ((wide, tall), (tall, wide)):
        boxes = torch.tensor([corner, first, second])
        ranked, scores = rank_boxes_by_heatmap(heatmap, boxes, (4, 4), rule='amc_official')
        assert ranked[0].tolist() == [first, second, corner]
        torch.testing.assert_close(scores, torch.tensor([[2**0.5, 2**0.5, 0.0]]))


def test_unknown_ranking_rule_is_refused():
    with pytest.raises(ValueError, match='rule must be one of'):
        rank_boxes_by_heatmap(torch.ones(1, 2, 2), torch.ones(1, 4), (4, 4), rule='mean')


def test_albef_grounder_ranks_proposals_with_its_box_ranking(tmp_path):
    """ALBEFGrounder(box_ranking=...) passes its rule to rank_boxes_by_heatmap: the 4x4 maps
    of the tiny ALBEF over a 32x32 image, boxes with fractional corners, where the two rules
    give different scores."""
    from mmengine.structures import InstanceData

    from mmgrounding.registry import MODELS
    from mmgrounding.utils import register_all_modules
    from tests.test_models.albef_tiny import tiny_albef_cfg, write_vocab
    from tests.test_models.test_albef import samples

    register_all_modules()
    vocab = write_vocab(tmp_path / 'vocab.txt')
    boxes = torch.tensor([[0.0, 0.0, 32.0, 32.0], [2.5, 3.5, 9.5, 12.5], [16.7, 16.2, 31.9, 24.8]])
    inputs = torch.randn(1, 3, 32, 32)
    scores = {}
    for rule in ('cover', 'amc_official'):
        torch.manual_seed(0)
        model = MODELS.build(tiny_albef_cfg(vocab, box_ranking=rule)).eval()
        sample = samples(1)[0]
        sample.proposals = InstanceData(bboxes=boxes)
        predicted = model.predict(inputs, [sample])[0]
        expected_boxes, expected_scores = rank_boxes_by_heatmap(
            predicted.pred_heatmaps, boxes, (32, 32), rule=rule
        )
        torch.testing.assert_close(predicted.pred_scores, expected_scores)
        torch.testing.assert_close(predicted.pred_boxes, expected_boxes)
        scores[rule] = predicted.pred_scores
    assert not torch.allclose(scores['cover'], scores['amc_official'])
    with pytest.raises(ValueError, match='box_ranking must be one of'):
        MODELS.build(tiny_albef_cfg(vocab, box_ranking='mean'))
