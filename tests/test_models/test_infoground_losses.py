"""InfoGround's L_img (Eq. 8) and L_lang (Eq. 9) on tiny inputs with hand-derived values."""

import math

import pytest
import torch

from mmgrounding.models.losses.infoground_image_loss import (
    InfoGroundImageLoss,
    infoground_image_loss,
)
from mmgrounding.models.losses.infoground_language_loss import (
    InfoGroundLanguageLoss,
    infoground_language_loss,
)
from mmgrounding.registry import MODELS


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


# φ of test_infoground_attention.py's hand-set module: (B=2 captions, B_r=2 images, L=1)
PHI = torch.tensor([[[1.25], [2.0]], [[0.5], [1.0]]])


def test_image_loss_by_hand():
    mask = torch.ones(2, 1, dtype=torch.bool)
    loss = infoground_image_loss(PHI, mask)
    # caption 0, own image 0: −log(e^1.25 / (e^1.25 + e^2)) = log(1 + e^0.75) = softplus(0.75)
    # caption 1, own image 1: −log(e^1 / (e^0.5 + e^1)) = softplus(−0.5)
    torch.testing.assert_close(loss, torch.tensor([[softplus(0.75)], [softplus(-0.5)]]))
    # temperature 0.5 doubles the φ gaps: softplus(1.5), softplus(−1)
    torch.testing.assert_close(
        infoground_image_loss(PHI, mask, temperature=0.5),
        torch.tensor([[softplus(1.5)], [softplus(-1.0)]]),
    )
    # mean over the 2 selected tokens, times the weight
    wrapper = InfoGroundImageLoss(loss_weight=2.0)
    expected = 2.0 * (softplus(0.75) + softplus(-0.5)) / 2
    assert float(wrapper(PHI, mask)) == pytest.approx(expected, rel=1e-6)


def test_image_loss_counts_only_selected_tokens():
    # L = 3: token 1 of caption 0 and tokens 0, 2 of caption 1 are selected; the other
    # tokens have huge φ gaps that would dominate if they counted.
    phi = torch.zeros(2, 2, 3)
    phi[0, :, 1] = torch.tensor([math.log(3.0), 0.0])  # p(own) = 3/4 -> log(4/3)
    phi[1, :, 0] = torch.tensor([0.0, 0.0])  # p(own) = 1/2 -> log 2
    phi[1, :, 2] = torch.tensor([math.log(3.0), 0.0])  # own image is 1: p = 1/4 -> log 4
    phi[0, :, 0] = torch.tensor([-50.0, 50.0])
    phi[1, :, 1] = torch.tensor([50.0, -50.0])
    mask = torch.tensor([[False, True, False], [True, False, True]])
    loss = infoground_image_loss(phi, mask)
    torch.testing.assert_close(
        loss, torch.tensor([[0.0, math.log(4 / 3), 0.0], [math.log(2.0), 0.0, math.log(4.0)]])
    )
    reduced = InfoGroundImageLoss()(phi, mask)
    assert float(reduced) == pytest.approx((math.log(4 / 3) + math.log(2) + math.log(4)) / 3)
    assert float(InfoGroundImageLoss(reduction='sum')(phi, mask)) == pytest.approx(
        math.log(4 / 3) + math.log(2) + math.log(4), rel=1e-6
    )
    # per caption first (the official L_img): caption 0 log(4/3) over 1 token, caption 1
    # (log 2 + log 4) / 2 = 1.5 log 2 over 2 tokens; then the mean of the 2 captions
    assert float(InfoGroundImageLoss(reduction='caption_mean')(phi, mask)) == pytest.approx(
        (math.log(4 / 3) + 1.5 * math.log(2)) / 2, rel=1e-6
    )


def test_image_loss_with_a_repeated_image():
    # 2 captions of image 0 and one image set of size 2 (image 0, image 1): captions 0 and 1
    # both have image 0 as their positive (B=2, B_r=2, positives not the diagonal).
    phi = torch.tensor([[[0.0], [0.0]], [[math.log(3.0)], [0.0]]])
    positives = torch.tensor([[True, False], [True, False]])
    loss = infoground_image_loss(phi, torch.ones(2, 1, dtype=torch.bool), positives=positives)
    # caption 0: log 2; caption 1: p(image 0) = 3/4 -> log(4/3)
    torch.testing.assert_close(loss, torch.tensor([[math.log(2.0)], [math.log(4 / 3)]]))
    with pytest.raises(ValueError, match='pass positives'):
        infoground_image_loss(torch.zeros(3, 2, 1), torch.ones(3, 1, dtype=torch.bool))


def test_language_loss_by_hand():
    # one caption, L = 2 tokens, K = 3 negatives
    phi_true = torch.tensor([[0.0, 1.0]])
    phi_neg = torch.tensor([[[0.0, math.log(2.0), -30.0], [1.0, 1.0, 1.0]]])
    token_mask = torch.tensor([[True, True]])
    loss = infoground_language_loss(phi_true, phi_neg, token_mask)
    # token 0: −log(1 / (1 + 1 + 2 + e^−30)) ≈ log 4; token 1: all four equal -> log 4
    torch.testing.assert_close(
        loss, torch.tensor([[math.log(4.0 + math.exp(-30.0)), math.log(4.0)]])
    )
    # masking negative 1 of token 0 (and 2 of token 1): log(1 + 1 + e^−30) and log 3
    negative_mask = torch.tensor([[[True, False, True], [True, True, False]]])
    loss = infoground_language_loss(phi_true, phi_neg, token_mask, negative_mask=negative_mask)
    torch.testing.assert_close(
        loss, torch.tensor([[math.log(2.0 + math.exp(-30.0)), math.log(3.0)]])
    )
    # a token with no real negative has nothing to be told apart from: loss 0
    loss = infoground_language_loss(
        phi_true, phi_neg, token_mask, negative_mask=torch.zeros(1, 2, 3, dtype=torch.bool)
    )
    torch.testing.assert_close(loss, torch.zeros(1, 2))
    # the wrapper: mean over the selected token 1 only
    wrapper = MODELS.build(dict(type='InfoGroundLanguageLoss', loss_weight=0.5))
    value = wrapper(phi_true, phi_neg, torch.tensor([[False, True]]))
    assert float(value) == pytest.approx(0.5 * math.log(4.0), rel=1e-6)


def test_language_loss_prefers_the_true_word():
    phi_true = torch.tensor([[5.0]], requires_grad=True)
    phi_neg = torch.zeros(1, 1, 25, requires_grad=True)
    loss = InfoGroundLanguageLoss()(phi_true, phi_neg, torch.ones(1, 1, dtype=torch.bool))
    # log(1 + 25 e^−5) = 0.1553...
    assert float(loss) == pytest.approx(math.log1p(25 * math.exp(-5.0)), rel=1e-6)
    loss.backward()
    assert float(phi_true.grad) < 0 and bool((phi_neg.grad > 0).all())


@pytest.mark.parametrize('which', ['image', 'language'])
def test_empty_selection_gives_zero_with_gradients(which):
    phi = torch.randn(3, 3, 4, requires_grad=True)
    none = torch.zeros(3, 4, dtype=torch.bool)
    if which == 'image':
        loss = InfoGroundImageLoss()(phi, none)
    else:
        loss = InfoGroundLanguageLoss()(phi[:, 0], phi.permute(0, 2, 1), none)
    assert float(loss) == 0.0 and loss.requires_grad
    loss.backward()
    assert phi.grad is not None and bool((phi.grad == 0).all())


def test_batched_equals_per_caption():
    torch.manual_seed(0)
    phi_true, phi_neg = torch.randn(3, 4), torch.randn(3, 4, 5)
    mask = torch.rand(3, 4) > 0.3
    batched = infoground_language_loss(phi_true, phi_neg, mask)
    for b in range(3):
        torch.testing.assert_close(
            batched[b : b + 1],
            infoground_language_loss(phi_true[b : b + 1], phi_neg[b : b + 1], mask[b : b + 1]),
        )


def test_bad_reduction_is_refused():
    for cls in (InfoGroundImageLoss, InfoGroundLanguageLoss):
        with pytest.raises(ValueError, match='reduction'):
            cls(reduction='avg')


def test_attention_and_both_losses_fit_a_fixed_batch():
    """φ from WordRegionAttention through L_img + L_lang: 30 Adam steps on one batch lower
    both losses (the gradients reach all four MLPs)."""
    from mmgrounding.models.fusion.word_region_attention import WordRegionAttention

    torch.manual_seed(0)
    module = WordRegionAttention(region_dim=8, word_dim=6, embed_dim=4)
    regions, words = torch.randn(4, 3, 8), torch.randn(4, 2, 6)
    negatives = torch.randn(4, 5, 6)  # 5 substitutes for token 0 of each caption
    token_mask = torch.tensor([[True, False]] * 4)
    image_loss, language_loss = InfoGroundImageLoss(), InfoGroundLanguageLoss()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)

    def losses():
        phi_all, _ = module(regions, words, all_pairs=True)  # (4, 4, 2)
        phi_neg, _ = module(regions, negatives)  # (4, 5): each substitute with its image
        true = phi_all.diagonal(dim1=0, dim2=1).T  # (4, 2): caption b with image b
        return (
            image_loss(phi_all, token_mask),
            language_loss(true[:, :1], phi_neg[:, None], token_mask[:, :1]),
        )

    before = [float(x) for x in losses()]
    for _ in range(30):
        optimizer.zero_grad()
        sum(losses()).backward()
        optimizer.step()
    after = [float(x) for x in losses()]
    assert after[0] < before[0] and after[1] < before[1]
    assert all(p.grad is not None for p in module.parameters())
