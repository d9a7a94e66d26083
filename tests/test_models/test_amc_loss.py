import pytest
import torch

from mmgrounding.models.losses import amc_loss
from mmgrounding.registry import MODELS


def maps():
    """One 2x2 map: inside = left column (values 0.8, 0.4), outside = right column (0.2, 0.6)."""
    cam = torch.tensor([[[0.8, 0.2], [0.4, 0.6]]])
    mask = torch.tensor([[[1., 0.], [1., 0.]]])
    return cam, mask


def test_amc_loss_by_hand():
    cam, mask = maps()
    # L_mean = max(0, mean_out 0.4 - mean_in 0.6 + 0.1) = 0
    # L_max  = max(0, max_out 0.6 - max_in 0.8 + 0.5) = 0.3
    # L = 0.2 * 0 + 0.8 * 0.3 = 0.24
    assert amc_loss(cam, mask).tolist() == pytest.approx([0.24])
    assert amc_loss(cam, mask, variant='mean').tolist() == pytest.approx([0.0])
    assert amc_loss(cam, mask, variant='max').tolist() == pytest.approx([0.3])
    # cosine: A·M = 1.2, |A| = sqrt(0.64+0.04+0.16+0.36) = sqrt(1.2), |M| = sqrt(2)
    # 1 - 1.2 / sqrt(2.4) = 0.2254033
    assert amc_loss(cam, mask, variant='cosine').tolist() == pytest.approx([0.2254033])


def test_map_inside_the_box_gives_zero_loss_and_batched_equals_single():
    inside = torch.tensor([[[1.0, 0.0], [0.9, 0.0]]])
    mask = torch.tensor([[[1., 0.], [1., 0.]]])
    # mean: 0 - 0.95 + 0.1 < 0; max: 0 - 1 + 0.5 < 0
    assert amc_loss(inside, mask).tolist() == [0.0]
    cam, mask2 = maps()
    batched = amc_loss(torch.cat([inside, cam]), torch.cat([mask, mask2]))
    assert batched.tolist() == pytest.approx([0.0, 0.24])


@pytest.mark.parametrize('variant', ['mean_max', 'mean', 'max'])
def test_empty_inside_or_outside_is_finite_with_gradients(variant):
    cam = torch.rand(2, 4, 4, requires_grad=True)
    masks = torch.stack([torch.zeros(4, 4), torch.ones(4, 4)])  # no inside; no outside
    loss = MODELS.build(dict(type='AMCLoss', variant=variant))(cam, masks)
    loss.backward()
    assert loss.item() == 0.0
    assert torch.isfinite(cam.grad).all()


def test_wrapper_mean_counts_only_defined_samples():
    cam, mask = maps()
    cams = torch.cat([cam, torch.rand(1, 2, 2)])
    masks = torch.cat([mask, torch.zeros(1, 2, 2)])
    loss = MODELS.build(dict(type='AMCLoss', loss_weight=2.0))(cams, masks)
    assert loss.item() == pytest.approx(2.0 * 0.24)  # the empty-mask sample is not averaged


def test_mean_pooled_over_the_batch_by_hand():
    cam, mask = maps()
    inside = torch.tensor([[[1.0, 0.0], [0.9, 0.0]]])
    cams, masks = torch.cat([cam, inside]), torch.cat([mask, mask])
    # per sample, margin 0.7: sample 1: 0.4 - 0.6 + 0.7 = 0.5; sample 2: 0 - 0.95 + 0.7 < 0
    per_sample = amc_loss(cams, masks, variant='mean', margin_mean=0.7)
    assert per_sample.tolist() == pytest.approx([0.5, 0.0])
    # pooled (official code): inside 0.8, 0.4, 1.0, 0.9 -> 0.775; outside 0.2, 0.6, 0, 0 -> 0.2
    # one hinge: 0.2 - 0.775 + 0.7 = 0.125, given to both samples
    pooled = amc_loss(cams, masks, variant='mean', margin_mean=0.7, mean_pooling='batch')
    assert pooled.tolist() == pytest.approx([0.125, 0.125])
    # the wrapper's mean: w_mean * 0.125 + w_max * mean(L_max); L_max = 0.3 and 0 (sample 2:
    # 0 - 1 + 0.5 < 0) -> 0.2 * 0.125 + 0.8 * 0.15 = 0.145
    loss = MODELS.build(dict(type='AMCLoss', margin_mean=0.7, mean_pooling='batch'))(cams, masks)
    assert loss.item() == pytest.approx(0.145)
    # a sample without inside pixels is left out of the pooled means
    empty = torch.cat([masks, torch.zeros(1, 2, 2)])
    cams3 = torch.cat([cams, torch.ones(1, 2, 2)])
    pooled3 = amc_loss(cams3, empty, variant='mean', margin_mean=0.7, mean_pooling='batch')
    assert pooled3.tolist() == pytest.approx([0.125, 0.125, 0.0])
    with pytest.raises(ValueError, match='mean_pooling'):
        amc_loss(cams, masks, mean_pooling='image')
