"""WordRegionAttention: φ and the attention of InfoGround, derived by hand on tiny inputs."""

import math

import pytest
import torch
from torch import nn

from mmgrounding.models.fusion.word_region_attention import (
    WordRegionAttention,
    masked_softmax,
    phrase_region_scores,
)
from mmgrounding.registry import MODELS

LN3 = math.log(3.0)


def set_mlp(mlp: nn.Sequential, out_weight) -> None:
    """Make ``mlp`` = x -> out_weight @ relu(x) exactly: the hidden Linear is the identity,
    BatchNorm in eval mode with mean 0, variance 1 and eps 0 is the identity too."""
    hidden, bn, _, out = mlp
    with torch.no_grad():
        hidden.weight.copy_(torch.eye(hidden.in_features))
        hidden.bias.zero_()
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0)
        bn.weight.fill_(1.0)
        bn.bias.zero_()
        bn.eps = 0.0
        out.weight.copy_(torch.as_tensor(out_weight, dtype=torch.float32))
        out.bias.zero_()


def hand_set_module() -> WordRegionAttention:
    """d = 2 and √d·ln3 in q_w, so that a query (1, ·) scores a region (1, 0) ln 3 higher."""
    module = WordRegionAttention(region_dim=2, word_dim=2, embed_dim=2).eval()
    set_mlp(module.region_key, torch.eye(2))  # k_r(r) = r
    set_mlp(module.region_value, torch.eye(2))  # v_r(r) = r
    set_mlp(module.word_query, [[math.sqrt(2) * LN3, 0.0], [0.0, 0.0]])  # q_w(w) = (√2·ln3·w1, 0)
    set_mlp(module.word_value, torch.eye(2))  # v_w(w) = w
    return module


# Image 0: regions r1 = (1, 0), r2 = (0, 1). Image 1: (0, 1) and a padded region (5, 5).
REGIONS = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [5.0, 5.0]]])  # (B=2, K=2, 2)
REGION_MASK = torch.tensor([[True, True], [True, False]])
# Caption 0: one word w = (1, 2); caption 1: one word w = (0, 1). L = 1.
WORDS = torch.tensor([[[1.0, 2.0]], [[0.0, 1.0]]])  # (B=2, L=1, 2)


def test_phi_and_attention_by_hand():
    module = hand_set_module()
    phi, attention = module(REGIONS, WORDS, region_mask=REGION_MASK, all_pairs=True)
    assert phi.shape == (2, 2, 1) and attention.shape == (2, 2, 1, 2)
    # Caption 0 on image 0: q = (√2 ln3, 0); q·k / √2 = (ln 3, 0) -> softmax (3/4, 1/4);
    # v_att = 3/4 (1, 0) + 1/4 (0, 1) = (0.75, 0.25); φ = (1, 2)·(0.75, 0.25) = 1.25.
    # Caption 0 on image 1: one real region (0, 1): a = (1, 0); φ = (1, 2)·(0, 1) = 2.
    # Caption 1 on image 0: q = 0 -> uniform (1/2, 1/2); v_att = (0.5, 0.5); φ = (0,1)·v_att = 0.5.
    # Caption 1 on image 1: a = (1, 0); φ = (0, 1)·(0, 1) = 1.
    expected_phi = torch.tensor([[[1.25], [2.0]], [[0.5], [1.0]]])
    expected_attention = torch.tensor(
        [[[[0.75, 0.25]], [[1.0, 0.0]]], [[[0.5, 0.5]], [[1.0, 0.0]]]]
    )
    torch.testing.assert_close(phi, expected_phi)
    torch.testing.assert_close(attention, expected_attention)

    # Paired: caption b with image b is the diagonal of all pairs.
    phi_pair, attention_pair = module(REGIONS, WORDS, region_mask=REGION_MASK)
    torch.testing.assert_close(phi_pair, torch.tensor([[1.25], [1.0]]))
    torch.testing.assert_close(attention_pair, expected_attention[[0, 1], [0, 1]])


def test_all_pairs_match_paired_for_every_pair():
    torch.manual_seed(0)
    module = WordRegionAttention(region_dim=6, word_dim=5, embed_dim=4).eval()
    regions, words = torch.randn(3, 4, 6), torch.randn(3, 5, 5)
    region_mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.bool)
    word_mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], dtype=torch.bool)
    phi, attention = module(
        regions, words, region_mask=region_mask, word_mask=word_mask, all_pairs=True
    )
    assert phi.shape == (3, 3, 5) and attention.shape == (3, 3, 5, 4)
    for c in range(3):  # every caption with image c, paired
        image = (regions[c : c + 1].expand(3, -1, -1), region_mask[c : c + 1].expand(3, -1))
        phi_c, att_c = module(image[0], words, region_mask=image[1], word_mask=word_mask)
        torch.testing.assert_close(phi[:, c], phi_c)
        torch.testing.assert_close(attention[:, c], att_c)
    # attention sums to 1 over the real regions and is 0 at padding
    torch.testing.assert_close(attention.sum(-1), torch.ones(3, 3, 5))
    assert bool((attention[:, 2, :, 1:] == 0).all())
    # padded tokens are zero after the projections, so their φ is 0
    assert bool((phi[1, :, 3:] == 0).all()) and bool((phi[2, :, 2:] == 0).all())


def test_padding_stays_out_of_batchnorm():
    """Training-mode BatchNorm sees only the real rows: changing padded features changes
    nothing, and the running statistics are those of the real rows."""
    torch.manual_seed(0)
    module = WordRegionAttention(region_dim=3, word_dim=3, embed_dim=2).train()
    regions, words = torch.randn(2, 3, 3), torch.randn(2, 2, 3)
    region_mask = torch.tensor([[True, True, False], [True, True, True]])
    word_mask = torch.tensor([[True, False], [True, True]])
    out_a = module(regions, words, region_mask=region_mask, word_mask=word_mask, all_pairs=True)[0]
    regions_b, words_b = regions.clone(), words.clone()
    regions_b[0, 2] = 100.0
    words_b[0, 1] = -100.0
    out_b = module(
        regions_b, words_b, region_mask=region_mask, word_mask=word_mask, all_pairs=True
    )[0]
    torch.testing.assert_close(out_a, out_b)


def test_image_without_regions_is_finite_with_zero_phi():
    module = WordRegionAttention(region_dim=2, word_dim=2, embed_dim=2).eval()
    phi, attention = module(
        torch.randn(2, 2, 2),
        torch.randn(2, 1, 2),
        region_mask=torch.tensor([[True, True], [False, False]]),
        all_pairs=True,
    )
    assert bool(torch.isfinite(phi).all())
    assert bool((phi[:, 1] == 0).all()) and bool((attention[:, 1] == 0).all())


def test_masked_softmax_and_phrase_scores():
    scores = torch.tensor([[0.0, LN3, 7.0]])
    torch.testing.assert_close(
        masked_softmax(scores, torch.tensor([[True, True, False]])),
        torch.tensor([[0.25, 0.75, 0.0]]),
    )
    attention = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4]])  # (L=3, K=3)
    phrases = torch.tensor([[True, True, False], [False, False, True], [False, False, False]])
    # phrase 0: max over tokens 0 and 1 per region = (0.7, 0.6, 0.3); phrase 1: token 2 only;
    # phrase 2 has no token: all 0
    torch.testing.assert_close(
        phrase_region_scores(attention, phrases),
        torch.tensor([[0.7, 0.6, 0.3], [0.3, 0.3, 0.4], [0.0, 0.0, 0.0]]),
    )


def test_built_from_the_registry_with_paper_sizes():
    module = MODELS.build(dict(type='WordRegionAttention'))  # the paper's sizes
    assert module.embed_dim == 384
    assert module.region_key[0].in_features == 2048  # hidden size = input size
    assert module.word_value[-1].out_features == 384
    with pytest.raises(ValueError, match='as many captions'):
        module.eval()(torch.randn(2, 3, 2048), torch.randn(3, 4, 768))


def test_key_value_depths_of_fig4():
    # num_hidden 0: single Linear maps (official layers=1); 2: two hidden layers (layers=3)
    linear = WordRegionAttention(region_dim=2, word_dim=2, embed_dim=2, num_hidden=0).eval()
    assert [type(m) for m in linear.word_query] == [nn.Linear]
    deep = WordRegionAttention(region_dim=4, word_dim=6, embed_dim=3, num_hidden=2)
    assert [type(m).__name__ for m in deep.region_key] == [
        'Linear',
        'BatchNorm1d',
        'ReLU',
        'Linear',
        'BatchNorm1d',
        'ReLU',
        'Linear',
    ]
    assert deep.word_value[3].in_features == 6 and deep.word_value[-1].out_features == 3
    # the linear module set by hand as hand_set_module's, without the ReLU: the same φ on
    # these non-negative inputs
    with torch.no_grad():
        for mlp, weight in (
            (linear.region_key, torch.eye(2)),
            (linear.region_value, torch.eye(2)),
            (linear.word_query, [[math.sqrt(2) * LN3, 0.0], [0.0, 0.0]]),
            (linear.word_value, torch.eye(2)),
        ):
            mlp[0].weight.copy_(torch.as_tensor(weight, dtype=torch.float32))
            mlp[0].bias.zero_()
    phi, _ = linear(REGIONS, WORDS, region_mask=REGION_MASK, all_pairs=True)
    torch.testing.assert_close(phi, torch.tensor([[[1.25], [2.0]], [[0.5], [1.0]]]))
    with pytest.raises(ValueError, match='num_hidden'):
        WordRegionAttention(num_hidden=-1)
