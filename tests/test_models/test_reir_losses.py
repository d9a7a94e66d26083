"""ReIR's shared losses on hand-derived values (they are reused by CAM-WSVG)."""

import math

import pytest
import torch

from mmgrounding.models.losses import (
    image_caption_ranking_loss,
    phrase_reconstruction_loss,
    relation_classification_loss,
    self_taught_regression_loss,
    self_taught_regression_targets,
)
from mmgrounding.registry import MODELS

# One query, four hand-placed boxes; b0 is the most confident (the pseudo ground truth).
#   b1 [0, 0, 10, 8]:  IoU 80/100 = 0.8 >= 0.6, score gap 0.5 - 0.3 = 0.2 >= 0.1 -> regressed
#   b2 [0, 0, 10, 5]:  IoU 50/100 = 0.5 < 0.6                           -> not selected
#   b3 [1, 0, 11, 10]: IoU 90/110 = 0.82, gap 0.05 < 0.1                -> selected, weight 0
BOXES = torch.tensor([[[0.0, 0, 10, 10], [0, 0, 10, 8], [0, 0, 10, 5], [1, 0, 11, 10]]])
SCORES = torch.tensor([[0.5, 0.3, 0.15, 0.45]])


def test_self_taught_targets_and_masks():
    targets, selected, weights = self_taught_regression_targets(BOXES, SCORES)
    assert selected.tolist() == [[False, True, False, True]]
    assert weights.tolist() == [[0.0, 1.0, 0.0, 0.0]]
    # b1 -> b0 (mmdet deltas): centre (5, 4) size (10, 8) -> centre (5, 5) size (10, 10):
    # dx 0, dy 1/8, dw log 1, dh log(10/8); times the weights (10, 10, 5, 5)
    assert torch.allclose(
        targets[0, 1], torch.tensor([0.0, 1.25, 0.0, 5 * math.log(1.25)]), atol=1e-5
    )
    # b3 -> b0: centre x 6 -> 5 over width 10: dx -0.1, times 10
    assert torch.allclose(targets[0, 3], torch.tensor([-1.0, 0.0, 0.0, 0.0]), atol=1e-5)
    assert targets[0, 0].abs().sum() == 0 and targets[0, 2].abs().sum() == 0


def test_self_taught_loss_value_and_gradient():
    pred = torch.zeros(1, 4, 4, requires_grad=True)
    loss = self_taught_regression_loss(pred, BOXES, SCORES)
    # smooth-L1 (β = 1) of b1's target (0, 1.25, 0, 1.1157): 0 + 0.75 + 0 + 0.6157; b3 has
    # weight 0; mean over the 2 selected boxes x 4 coordinates
    expected = (0.75 + 5 * math.log(1.25) - 0.5) / 8
    assert loss.item() == pytest.approx(expected, abs=1e-5)
    loss.backward()
    assert pred.grad[0, 1].abs().sum() > 0
    assert pred.grad[0, [0, 2, 3]].abs().sum() == 0
    # through the registry: λ1 = 0.1
    module = MODELS.build(dict(type='SelfTaughtRegressionLoss'))
    assert module(pred, BOXES, SCORES).item() == pytest.approx(0.1 * expected, abs=1e-6)


def test_self_taught_empty_cases_are_finite_zero():
    pred = torch.zeros(1, 1, 4, requires_grad=True)
    loss = self_taught_regression_loss(pred, BOXES[:, :1], SCORES[:, :1])  # no neighbour
    assert loss.item() == 0.0
    loss.backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all()
    empty = self_taught_regression_loss(
        torch.zeros(0, 4, 4), torch.zeros(0, 4, 4), torch.zeros(0, 4)
    )
    assert empty.item() == 0.0
    # a far box only (IoU 0): nothing selected
    far = torch.tensor([[[0.0, 0, 10, 10], [50, 50, 60, 60]]])
    assert (
        self_taught_regression_loss(torch.zeros(1, 2, 4), far, torch.tensor([[0.9, 0.1]])).item()
        == 0.0
    )


def test_self_taught_padding_is_never_the_pseudo_ground_truth():
    valid = torch.tensor([[False, True, True, True]])  # b0 is padding
    _, selected, _ = self_taught_regression_targets(BOXES, SCORES, valid=valid)
    # b3 (0.45) is now the most confident; b1 has IoU 72/108 = 0.67 with it, b2 45/105
    assert selected.tolist() == [[False, True, False, False]]


def test_ranking_loss_hand_values():
    sim = torch.tensor([[0.9, 0.5], [0.2, 0.6]])
    # raw: only caption 1 against image 0 violates: 0.2 - 0.6 + 0.5 = 0.1; / B = 0.05
    assert image_caption_ranking_loss(sim, normalise='none').item() == pytest.approx(0.05)
    # softmax (official): rows (0.5987, 0.4013) and (0.4013, 0.5987) give 0.2 - 0.5987 +
    # 0.4013 = 0.0026 twice; columns (0.6682, 0.3318) and (0.4750, 0.5250) give 0 and
    # 0.2 - 0.5250 + 0.4750 = 0.1500; (2 x 0.002624 + 0.150042) / 2
    sig = torch.sigmoid
    rows = 0.2 - sig(torch.tensor(0.4)) + sig(torch.tensor(-0.4))
    cols = 0.2 - sig(torch.tensor(0.1)) + sig(torch.tensor(-0.1))
    expected = float((2 * rows + cols) / 2)
    assert image_caption_ranking_loss(sim).item() == pytest.approx(expected, abs=1e-6)
    assert expected == pytest.approx(0.077645, abs=1e-5)


def test_ranking_loss_one_image_and_same_image_captions():
    one = torch.tensor([[0.3]], requires_grad=True)
    loss = image_caption_ranking_loss(one)
    assert loss.item() == 0.0
    loss.backward()
    assert torch.isfinite(one.grad).all()
    # two captions of the same image are not each other's negatives
    sim = torch.tensor([[0.1, 0.9], [0.9, 0.1]])
    same = torch.ones(2, 2, dtype=torch.bool)
    assert image_caption_ranking_loss(sim, positives=same, normalise='none').item() == 0.0
    assert image_caption_ranking_loss(sim, normalise='none').item() > 0


def test_reconstruction_and_relation_losses():
    logits = torch.zeros(2, 3, 4, requires_grad=True)  # uniform over 4 words
    targets = torch.tensor([[1, 2, 0], [3, 0, 0]])
    mask = targets > 0
    assert phrase_reconstruction_loss(logits, targets, mask).item() == pytest.approx(math.log(4))
    assert phrase_reconstruction_loss(logits, targets, mask & False).item() == 0.0
    rel_logits = torch.zeros(3, 3, requires_grad=True)
    assert relation_classification_loss(rel_logits, torch.tensor([0, 2, 0])).item() == (
        pytest.approx(math.log(3))
    )
    loss = relation_classification_loss(rel_logits, torch.zeros(3, dtype=torch.long))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.isfinite(rel_logits.grad).all()
    empty = relation_classification_loss(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))
    assert empty.item() == 0.0
