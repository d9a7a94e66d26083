"""ALBEF's fusion encoder: the images' cross-attention keys and values with a frozen copy (one
product per projection) equal two separate projections, of the tokens and of the detached
tokens, in value and in every gradient; in float32 and under bfloat16 autocast."""

import pytest
import torch

from mmgrounding.models.fusion import ALBEFFusionEncoder

CONFIG = dict(hidden_size=16, num_attention_heads=2, intermediate_size=32)


def _fusion():
    torch.manual_seed(0)
    return ALBEFFusionEncoder(config=CONFIG, num_layers=2, image_dim=8)


def _weighted_sum(kv_list, generator):
    """A scalar that weighs every element of every key and value differently."""
    total = 0
    for k, v in kv_list:
        total = total + (k * torch.randn(k.shape, generator=generator)).sum()
        total = total + (v * torch.randn(v.shape, generator=generator)).sum()
    return total


@pytest.mark.parametrize('autocast', [False, True])
def test_frozen_copy_equals_a_projection_of_the_detached_tokens(autocast):
    fusion = _fusion()
    image = torch.randn(3, 5, 8, requires_grad=True)  # (B, N, C)
    params = [p for p in fusion.parameters() if p.requires_grad]
    results = []
    for shared in (False, True):
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
            if shared:
                kv, frozen = fusion.image_keys_values_with_frozen_copy(image)
            else:
                kv = fusion.image_keys_values(image)
                frozen = fusion.image_keys_values(image.detach())
        # the same weights on both outputs in both layouts (the frozen copy's rows 2, 0, 0:
        # a negative image drawn twice, as ITM may draw it)
        frozen = [(k[[2, 0, 0]], v[[2, 0, 0]]) for k, v in frozen]
        gen = torch.Generator().manual_seed(1)
        loss = _weighted_sum(kv, gen).float() + 2 * _weighted_sum(frozen, gen).float()
        grads = torch.autograd.grad(loss, [image, *params], allow_unused=True)
        results.append((kv, frozen, grads))
    (kv_a, frozen_a, grads_a), (kv_b, frozen_b, grads_b) = results

    def tol(reference):  # bfloat16 (8 bits of mantissa): 1 % of the tensor's largest entry
        if not autocast:
            return dict(atol=1e-5, rtol=1e-5)
        return dict(atol=1e-2 * float(reference.abs().max()), rtol=1e-2)

    for (ka, va), (kb, vb) in zip(kv_a + frozen_a, kv_b + frozen_b):
        assert ka.dtype == kb.dtype and va.dtype == vb.dtype
        torch.testing.assert_close(kb, ka, **tol(ka))
        torch.testing.assert_close(vb, va, **tol(va))
    touched = 0
    for ga, gb, p in zip(grads_a, grads_b, [image, *params]):
        assert (ga is None) == (gb is None)
        if ga is None:
            continue
        assert gb.dtype == p.dtype  # float32 gradients of float32 weights under autocast too
        torch.testing.assert_close(gb, ga, **tol(ga))
        touched += bool(ga.abs().sum() > 0)
    # the image tokens and the 2 layers' key and value weights and biases got gradients
    assert touched == 1 + 2 * 2 * 2


def test_frozen_copy_sends_no_gradient_to_the_tokens():
    fusion = _fusion()
    image = torch.randn(2, 5, 8, requires_grad=True)
    _, frozen = fusion.image_keys_values_with_frozen_copy(image)
    loss = sum(k.sum() + v.sum() for k, v in frozen)
    grad_image, grad_key = torch.autograd.grad(
        loss, [image, fusion.layers[0].crossattention.self.key.weight], allow_unused=True
    )
    assert grad_image is None or not grad_image.any()
    # d(sum of keys)/d(key weight)[o, i] = sum over the rows of image[..., i]
    expected = image.detach().reshape(-1, 8).sum(0).expand(16, -1)
    torch.testing.assert_close(grad_key, expected)


@pytest.mark.parametrize('keep_probs', [False, True])
def test_rows_sharing_an_image_equal_rows_with_copied_keys_and_values(keep_probs):
    """rows_per_image=3 over 2 images (rows 0-5 -> images 0, 1, 0, 1, 0, 1) gives the output,
    the kept probabilities (per row) and the gradients of the same 6 rows with each row's
    image keys and values copied out (rows_per_image=1)."""
    fusion = _fusion().eval()  # no dropout: the two layouts would draw different masks
    attention = fusion.layers[0].crossattention.self
    attention.keep_probs = keep_probs
    text = torch.randn(6, 4, 16, requires_grad=True)  # (B, L, D)
    mask = torch.tensor([[True] * 4, [True] * 2 + [False] * 2] * 3)  # (B, L): padded rows
    image = torch.randn(2, 5, 8, requires_grad=True)  # (B', N, C)
    results = []
    for shared in (False, True):
        kv = fusion.image_keys_values(image)
        if shared:
            out = fusion(text, mask, image_groups=[(kv, 3)])
        else:
            rows = torch.tensor([0, 1, 0, 1, 0, 1])
            out = fusion(text, mask, image_kv=[(k[rows], v[rows]) for k, v in kv])
        probs = attention.probs
        weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(2))
        grads = torch.autograd.grad((out * weights).sum(), [text, image])
        results.append((out, probs, grads))
    (out_a, probs_a, grads_a), (out_b, probs_b, grads_b) = results
    torch.testing.assert_close(out_b, out_a, atol=1e-5, rtol=1e-5)
    for ga, gb in zip(grads_a, grads_b):
        torch.testing.assert_close(gb, ga, atol=1e-5, rtol=1e-5)
    if keep_probs:
        assert probs_b.shape == (6, 2, 4, 5)  # (B, heads, L, N)
        torch.testing.assert_close(probs_b, probs_a, atol=1e-6, rtol=1e-5)
        # each row's probabilities are those of its own text: rows 0 and 2 share image 0 but
        # not their queries
        assert not torch.allclose(probs_b[0], probs_b[2])
    else:
        assert probs_a is None and probs_b is None


def test_the_image_side_is_given_once_and_groups_cover_the_rows():
    fusion = _fusion()
    text, mask = torch.randn(4, 3, 16), torch.ones(4, 3, dtype=torch.bool)
    image = torch.randn(2, 5, 8)
    kv = fusion.image_keys_values(image)
    with pytest.raises(ValueError, match='one of'):
        fusion(text, mask, image, image_groups=[(kv, 2)])
    with pytest.raises(ValueError, match='rows'):  # 3 x 2 rows for 4 texts
        fusion(text, mask, image_groups=[(kv, 3)])
