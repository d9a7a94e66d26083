"""Grad-CAM equals a brute-force autograd computation; hooks are gone afterwards."""
import pytest
import torch
from torch import nn

from mmgrounding.models.fusion import MultiHeadAttention
from mmgrounding.registry import MODELS


class TinyFusion(nn.Module):
    """Text tokens attend to 1 + 4 image tokens (2x2 grid); a linear head scores the CLS."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.cross = MultiHeadAttention(8, 2, 8)
        self.head = nn.Linear(8, 1)

    def forward(self, text, mask, image):
        return self.head(torch.tanh(self.cross(text, image)))[:, 0, 0]  # (B,)


def test_grad_cam_matches_brute_force_and_removes_hooks():
    model = TinyFusion()
    text, image = torch.randn(3, 4, 8), torch.randn(3, 5, 8)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]]).bool()
    explainer = MODELS.build(dict(type='GradCAMExplainer', target_layer='cross',
                                  normalize=False))
    with explainer.watch(model) as captured:
        score = model(text, mask, image)
    cam = explainer.explain(score, captured['probs'], text_mask=mask, grid_hw=(2, 2))

    # brute force: the same attention computed by hand, its gradient by autograd per sample
    for b in range(3):
        q = model.cross._heads(model.cross.query(text[b:b + 1]))
        k = model.cross._heads(model.cross.key(image[b:b + 1]))
        v = model.cross._heads(model.cross.value(image[b:b + 1]))
        probs = (q @ k.transpose(-1, -2) / 2).softmax(-1)  # head dim 4 -> scale 1/2
        out = (probs @ v).transpose(1, 2).reshape(1, 4, 8)
        s = model.head(torch.tanh(out))[0, 0, 0]
        grad = torch.autograd.grad(s, probs)[0]
        expected = (probs * grad.clamp(min=0))[0, :, :, 1:].mean(0)  # (L, 4)
        expected = expected[mask[b]].mean(0).clamp(min=0).reshape(2, 2)
        torch.testing.assert_close(cam[b], expected, rtol=1e-5, atol=1e-6)

    assert not model.cross._forward_hooks
    assert model.cross.keep_probs is False and model.cross.probs is None


def test_normalised_maps_peak_at_one_and_wrong_layer_is_rejected():
    model = TinyFusion()
    explainer = MODELS.build(dict(type='GradCAMExplainer', target_layer='cross'))
    text, image = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
    mask = torch.ones(2, 3, dtype=torch.bool)
    with explainer.watch(model) as captured:
        score = model(text, mask, image)
    cam = explainer.explain(score, captured['probs'], text_mask=mask, grid_hw=(2, 2))
    peaks = cam.flatten(1).max(1).values
    assert all(p == pytest.approx(1.0) or p == 0 for p in peaks.tolist())
    with pytest.raises(TypeError, match='keep_probs'):
        with MODELS.build(dict(type='GradCAMExplainer', target_layer='head')).watch(model):
            pass


def test_min_max_normalisation_by_hand():
    from mmgrounding.models.explainers.grad_cam import normalize_maps
    cam = torch.tensor([[[0.2, 0.6], [1.0, 0.2]], [[0.0, 0.0], [0.0, 0.0]]])
    # min 0.2, max 1.0: (A - 0.2) / (0.8 + 1e-7) -> 0, 0.5, 1, 0; an all-zero map stays 0
    torch.testing.assert_close(normalize_maps(cam, 'minmax'),
                               torch.tensor([[[0.0, 0.5], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]]))
    # divide by the max: 0.2, 0.6, 1, 0.2
    torch.testing.assert_close(normalize_maps(cam, 'max')[0], cam[0])
    torch.testing.assert_close(normalize_maps(cam, 'none'), cam)


def test_explainer_min_max_maps_span_zero_to_one_and_bad_mode_is_rejected():
    model = TinyFusion()
    explainer = MODELS.build(dict(type='GradCAMExplainer', target_layer='cross',
                                  normalize='minmax'))
    text, image = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
    mask = torch.ones(2, 3, dtype=torch.bool)
    with explainer.watch(model) as captured:
        score = model(text, mask, image)
    cam = explainer.explain(score, captured['probs'], text_mask=mask, grid_hw=(2, 2))
    flat = cam.flatten(1)
    assert flat.min(1).values.tolist() == pytest.approx([0.0, 0.0], abs=1e-6)
    assert all(p == pytest.approx(1.0, abs=1e-5) or p == 0 for p in flat.max(1).values.tolist())
    # True / False keep their old meaning
    assert MODELS.build(dict(type='GradCAMExplainer', target_layer='x')).normalize == 'max'
    assert MODELS.build(dict(type='GradCAMExplainer', target_layer='x',
                             normalize=False)).normalize == 'none'
    with pytest.raises(ValueError, match='normalize'):
        MODELS.build(dict(type='GradCAMExplainer', target_layer='x', normalize='sum'))
