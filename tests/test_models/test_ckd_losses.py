"""CKD's scores (Eq. 1-2), L_IS (Eq. 5), L_RP with pseudo labels (Eq. 3-4), max margin (Eq. 7)."""

import math

import pytest
import torch

from mmgrounding.models.heads import image_sentence_scores, region_phrase_scores
from mmgrounding.models.losses import (
    ckd_pseudo_labels,
    ckd_region_phrase_loss,
    image_sentence_nce_loss,
    max_margin_loss,
)
from mmgrounding.registry import MODELS

# Two sentences over two images, unit vectors in 2-d:
#   phrases y0 = (1, 0), y1 = (0, 1) of sentence 0; y2 = (1, 0) of sentence 1
#   image 0: x00 = (1, 0), x01 = (0, 1); image 1: x10 = (0.6, 0.8), x11 = (-1, 0)
PHRASES = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
REGIONS = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[0.6, 0.8], [-1.0, 0.0]]])
OWNER = torch.tensor([0, 0, 1])


def test_region_phrase_scores_are_dot_products():
    s = region_phrase_scores(PHRASES, REGIONS)
    assert s.shape == (3, 2, 2)
    # s(x10, y1) = 0*0.6 + 1*0.8
    assert s[1, 1, 0].item() == pytest.approx(0.8)
    assert torch.allclose(s[0], torch.tensor([[1.0, 0.0], [0.6, -1.0]]))


def test_image_sentence_scores_sum_of_max():
    s = region_phrase_scores(PHRASES, REGIONS)
    # max over regions: y0 -> image 0: max(1, 0) = 1, image 1: max(0.6, -1) = 0.6
    #                   y1 -> image 0: max(0, 1) = 1, image 1: max(0.8, 0) = 0.8
    #                   y2 -> as y0: 1, 0.6
    # S(sentence 0) = (1 + 1, 0.6 + 0.8) = (2, 1.4); S(sentence 1) = (1, 0.6)
    S = image_sentence_scores(s, OWNER, 2)
    assert torch.allclose(S, torch.tensor([[2.0, 1.4], [1.0, 0.6]]))
    # masking x10 leaves image 1 only x11 = (-1, 0): y0 -> -1, y1 -> 0, y2 -> -1
    mask = torch.tensor([[True, True], [False, True]])
    S = image_sentence_scores(s, OWNER, 2, region_mask=mask)
    assert torch.allclose(S, torch.tensor([[2.0, -1.0], [1.0, -1.0]]))
    # a sentence without phrases scores 0 against every image
    assert torch.equal(image_sentence_scores(s, OWNER, 3)[2], torch.zeros(2))


def test_image_sentence_nce_hand_derived():
    S = torch.tensor([[2.0, 1.4], [1.0, 0.6]])
    positives = torch.eye(2, dtype=torch.bool)
    # τ = 0.5: row 0 logits (4, 2.8), own image first: log(1 + e^(2.8 - 4)) = log(1 + e^-1.2)
    #          row 1 logits (2, 1.2), own image second: log(1 + e^(2 - 1.2)) = log(1 + e^0.8)
    loss = image_sentence_nce_loss(S, positives, temperature=0.5)
    expected = torch.tensor([math.log(1 + math.exp(-1.2)), math.log(1 + math.exp(0.8))])
    assert torch.allclose(loss, expected)  # 0.263282, 1.171101
    wrapper = MODELS.build(dict(type='ImageSentenceNCELoss', temperature=0.5, loss_weight=2.0))
    assert wrapper(S, positives).item() == pytest.approx(2 * expected.mean().item())


def test_image_sentence_nce_two_captions_of_one_image():
    # sentences 0 and 1 describe the same image: both columns are positives, each 1/2
    S = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    positives = torch.tensor([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=torch.bool)
    loss = image_sentence_nce_loss(S, positives, temperature=1.0)
    # row 0: -(1/2) * 2 * log(e / (2e + 1)) = log(2 + e^-1)
    assert loss[0].item() == pytest.approx(math.log(2 + math.exp(-1)))


def test_pseudo_labels_hand_derived():
    # regions' class probabilities: x0 (0.9, 0.1), x1 (0.3, 0.7); the phrase is class 1:
    # weights (0.1, 0.7) -> p̂ = (0.125, 0.875)
    class_probs = torch.tensor([[[0.9, 0.1], [0.3, 0.7]]])
    phrase_class = torch.tensor([[0.0, 1.0]])
    assert torch.allclose(
        ckd_pseudo_labels(class_probs, phrase_class), torch.tensor([[0.125, 0.875]])
    )
    # a padded region gets nothing: (0.1, 0) -> (1, 0)
    mask = torch.tensor([[True, False]])
    assert torch.allclose(
        ckd_pseudo_labels(class_probs, phrase_class, region_mask=mask), torch.tensor([[1.0, 0.0]])
    )
    # no region has any probability of the class: uniform over the real regions
    none = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]]])
    assert torch.allclose(ckd_pseudo_labels(none, phrase_class), torch.full((1, 3), 1 / 3))


def test_region_phrase_loss_hand_derived():
    # scores (1, 0), τ = 0.5 -> logits (2, 0); log-softmax = (-log(1 + e^-2), -2 - log(1 + e^-2))
    # L_RP = -(0.125 * lsm0 + 0.875 * lsm1) = 0.875 * 2 + log(1 + e^-2) = 1.876928
    scores = torch.tensor([[1.0, 0.0]])
    class_probs = torch.tensor([[[0.9, 0.1], [0.3, 0.7]]])
    phrase_class = torch.tensor([[0.0, 1.0]])
    loss = ckd_region_phrase_loss(scores, class_probs, phrase_class, temperature=0.5)
    assert loss.item() == pytest.approx(1.876928, abs=1e-6)
    wrapper = MODELS.build(dict(type='CKDRegionPhraseLoss', temperature=0.5))
    assert wrapper(scores, class_probs, phrase_class).item() == pytest.approx(1.876928, abs=1e-6)


def test_region_phrase_loss_batched_equals_per_phrase():
    torch.manual_seed(0)
    scores = torch.randn(4, 5)
    class_probs = torch.rand(4, 5, 3).softmax(dim=2)
    phrase_class = torch.eye(3)[torch.tensor([0, 2, 1, 2])]
    mask = torch.rand(4, 5) > 0.3
    mask[:, 0] = True
    batched = ckd_region_phrase_loss(
        scores, class_probs, phrase_class, temperature=0.5, region_mask=mask
    )
    single = torch.cat(
        [
            ckd_region_phrase_loss(
                scores[i : i + 1, mask[i]],
                class_probs[i : i + 1, mask[i]],
                phrase_class[i : i + 1],
                temperature=0.5,
            )
            for i in range(4)
        ]
    )
    assert torch.allclose(batched, single, atol=1e-5)


def test_region_phrase_loss_minimum_at_the_pseudo_labels():
    # the cross-entropy is smallest (= entropy of p̂) when softmax(s/τ) equals p̂
    class_probs = torch.tensor([[[0.9, 0.1], [0.3, 0.7]]])
    phrase_class = torch.tensor([[0.0, 1.0]])
    target = torch.tensor([[0.125, 0.875]])
    at_target = ckd_region_phrase_loss(
        0.5 * target.log(), class_probs, phrase_class, temperature=0.5
    )
    entropy = -(target * target.log()).sum()
    assert at_target.item() == pytest.approx(entropy.item(), abs=1e-6)


def test_empty_region_phrase_loss_is_zero_with_gradients():
    scores = torch.zeros((0, 4), requires_grad=True)
    wrapper = MODELS.build(dict(type='CKDRegionPhraseLoss'))
    loss = wrapper(scores, torch.zeros((0, 4, 3)), torch.zeros((0, 3)))
    assert loss.item() == 0.0
    loss.backward()
    assert scores.grad is not None


def test_max_margin_hand_derived():
    S = torch.tensor([[2.0, 1.4], [1.0, 0.6]])
    positives = torch.eye(2, dtype=torch.bool)
    # m = 0.05: row 0: max(0, 0.05 - 2 + 1.4) = 0; row 1: max(0, 0.05 - 0.6 + 1.0) = 0.45
    loss = max_margin_loss(S, positives, margin=0.05)
    assert torch.allclose(loss, torch.tensor([0.0, 0.45]))
    wrapper = MODELS.build(dict(type='MaxMarginLoss', margin=0.05))
    assert wrapper(S, positives).item() == pytest.approx(0.225)
    # a second positive column is neither positive nor negative
    two = torch.tensor([[True, True], [False, True]])
    assert torch.allclose(max_margin_loss(S, two, margin=0.05), torch.tensor([0.0, 0.45]))


def test_official_target_over_the_regions_of_highest_iou_with_the_top_region():
    from mmgrounding.models.losses.ckd_region_phrase_loss import (
        ckd_top_iou_region_phrase_loss,
        top_region_neighbours,
    )

    # one phrase, 4 regions; r0 scores highest. IoU with r0 = [0, 0, 10, 10]:
    # r1 [0, 0, 10, 5] 50/100 = 0.5, r2 [0, 0, 10, 8] 0.8, r3 far away 0
    boxes = torch.tensor(
        [
            [
                [0.0, 0.0, 10.0, 10.0],
                [0.0, 0.0, 10.0, 5.0],
                [0.0, 0.0, 10.0, 8.0],
                [50.0, 50.0, 60.0, 60.0],
            ]
        ]
    )
    scores = torch.tensor([[0.4, 0.3, 0.2, 0.1]])
    assert top_region_neighbours(scores, boxes, num_regions=2).tolist() == [[0, 2]]
    assert top_region_neighbours(scores, boxes, num_regions=8).tolist() == [[0, 2, 1, 3]]
    # a padded region is never chosen: -1 fills the slot
    mask = torch.tensor([[True, True, False, False]])
    assert top_region_neighbours(scores, boxes, num_regions=3, region_mask=mask).tolist() == [
        [0, 1, -1]
    ]
    # p(z | x) of the phrase's class (z = 0): 0.3, 0.9, 0.1, 0.6. Over {r0, r2} the pseudo
    # labels are 0.3 / 0.4 = 0.75 and 0.25 (r1's 0.9 is outside the two regions); the logits
    # s / τ = 0.8, 0.4, so p(r0) = σ(0.4) and
    # L = −0.75 log σ(0.4) − 0.25 log σ(−0.4) = 0.75 softplus(−0.4) + 0.25 softplus(0.4)
    class_probs = torch.tensor([[[0.3, 0.7], [0.9, 0.1], [0.1, 0.9], [0.6, 0.4]]])
    phrase_class = torch.tensor([[1.0, 0.0]])
    loss = ckd_top_iou_region_phrase_loss(
        scores, class_probs, phrase_class, boxes, temperature=0.5, num_regions=2
    )

    def softplus(x):
        return math.log1p(math.exp(x))

    assert float(loss) == pytest.approx(0.75 * softplus(-0.4) + 0.25 * softplus(0.4), rel=1e-6)
    # through the registry; the paper's "all regions" target differs (r1's 0.9 counts)
    wrapper = MODELS.build(
        dict(
            type='CKDRegionPhraseLoss',
            temperature=0.5,
            target_regions='top_iou',
            num_target_regions=2,
        )
    )
    assert float(wrapper(scores, class_probs, phrase_class, boxes_xyxy=boxes)) == pytest.approx(
        float(loss)
    )
    everything = MODELS.build(dict(type='CKDRegionPhraseLoss', temperature=0.5))
    assert float(everything(scores, class_probs, phrase_class)) != pytest.approx(float(loss))
    with pytest.raises(ValueError, match='boxes_xyxy'):
        wrapper(scores, class_probs, phrase_class)
    with pytest.raises(ValueError, match='target_regions'):
        MODELS.build(dict(type='CKDRegionPhraseLoss', target_regions='top8'))
