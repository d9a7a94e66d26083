"""SelfEQ's self-consistency loss on hand-made 2x2 maps: R, both stds, both hinges."""

import pytest
import torch

from mmgrounding.models.losses import self_consistency_loss
from mmgrounding.registry import MODELS


def pair():
    """Sample 1: G = [[1.0, 0.6], [0.2, 0.0]], G' = [[0.8, 0.4], [0.4, 0.0]].

    G + G' = [[1.8, 1.0], [0.6, 0.0]]: R (k = 0.8) is the top row, |R| = 2.
    Sample 2: G = [[0.9, 0.8], [0, 0]], G' = [[0.1, 0.2], [0, 0]]: R is the top row again.
    """
    cam = torch.tensor([[[1.0, 0.6], [0.2, 0.0]], [[0.9, 0.8], [0.0, 0.0]]])
    cam_para = torch.tensor([[[0.8, 0.4], [0.4, 0.0]], [[0.1, 0.2], [0.0, 0.0]]])
    return cam, cam_para


def test_one_sample_by_hand():
    cam, cam_para = (m[:1] for m in pair())
    l_sim, l_cst = self_consistency_loss(cam, cam_para)
    # smooth-L1 (beta 1) of G' - G = -0.2, -0.2, 0.2, 0: 0.5 * 0.04 three times / 4 = 0.015
    assert l_sim.item() == pytest.approx(0.015)
    # official stds, of the masked maps over all 4 pixels (unbiased):
    # G.R = 1.0, 0.6, 0, 0: mean 0.4, squares 0.36 + 0.04 + 0.16 + 0.16 = 0.72, / 3 -> 0.4898979
    # G'.R = 0.8, 0.4, 0, 0: mean 0.3, 0.25 + 0.01 + 0.09 + 0.09 = 0.44, / 3 -> 0.3829708
    # means on R: G 0.8, G' 0.6, both >= k/2 = 0.4: no hinge
    assert l_cst.item() == pytest.approx(0.4898979 + 0.3829708, abs=1e-6)
    # stds over R only: G 1.0, 0.6 -> 0.2828427; G' 0.8, 0.4 -> 0.2828427
    _, l_roi = self_consistency_loss(cam, cam_para, std_over='roi')
    assert l_roi.item() == pytest.approx(2 * 0.2828427, abs=1e-6)
    # k = 1.5: R = the first pixel only (1.8): one value -> stds 0 (roi); means 1.0 and 0.8
    # against k/2 = 0.75: no hinge
    _, l_k = self_consistency_loss(cam, cam_para, k=1.5, std_over='roi')
    assert l_k.item() == pytest.approx(0.0, abs=1e-6)


def test_hinges_and_pooling_by_hand():
    cam, cam_para = pair()
    # sample 2 alone, stds over R: G 0.9, 0.8 -> 0.0707107, G' 0.1, 0.2 -> 0.0707107;
    # mean of G' on R = 0.15 < 0.4: hinge 0.25; mean of G 0.85: none -> 0.3914214
    _, l2 = self_consistency_loss(cam[1:], cam_para[1:], std_over='roi')
    assert l2.item() == pytest.approx(2 * 0.0707107 + 0.25, abs=1e-6)
    # per sample, averaged: (0.5656854 + 0.3914214) / 2
    _, l_sample = self_consistency_loss(cam, cam_para, pooling='sample', std_over='roi')
    assert l_sample.item() == pytest.approx((0.5656854 + 0.3914214) / 2, abs=1e-6)
    # official: one R over the batch (|R| = 4), stds of the masked maps over all 8 pixels
    # G.R = 1.0, 0.6, 0, 0, 0.9, 0.8, 0, 0: mean 0.4125, squares sum 1.44875 / 7 -> 0.4549329
    # G'.R = 0.8, 0.4, 0, 0, 0.1, 0.2, 0, 0: mean 0.1875, squares 0.56875 / 7 -> 0.2850439
    # means on R: G 3.3 / 4 = 0.825 (none), G' 1.5 / 4 = 0.375 -> hinge 0.025
    l_sim, l_batch = self_consistency_loss(cam, cam_para)
    assert l_batch.item() == pytest.approx(0.4549329 + 0.2850439 + 0.025, abs=1e-6)
    # L_sim: sample 2's differences -0.8, -0.6 -> 0.3 + 0.1 (|d| < 1: 0.5 d^2 = 0.32, 0.18);
    # mean over 8 pixels: (0.06 + 0.32 + 0.18) / 8 = 0.07
    assert l_sim.item() == pytest.approx(0.07)


def test_wrapper_weights_and_empty_roi_keeps_finite_gradients():
    cam, cam_para = pair()
    loss = MODELS.build(dict(type='SelfConsistencyLoss'))(cam, cam_para)
    assert loss['loss_sim'].item() == pytest.approx(0.07)
    assert loss['loss_cst'].item() == pytest.approx(0.5 * (0.4549329 + 0.2850439 + 0.025), abs=1e-6)
    zeros = torch.zeros(2, 2, 2, requires_grad=True)
    zeros_para = torch.zeros(2, 2, 2, requires_grad=True)
    l_sim, l_cst = self_consistency_loss(zeros, zeros_para)  # R is empty
    assert l_sim.item() == 0 and l_cst.item() == 0
    (l_sim + l_cst).backward()
    assert torch.isfinite(zeros.grad).all() and torch.isfinite(zeros_para.grad).all()
    with pytest.raises(ValueError, match='pooling'):
        self_consistency_loss(cam, cam_para, pooling='image')
    with pytest.raises(ValueError, match='shape'):
        self_consistency_loss(cam, cam_para[:1])


def test_identical_concentrated_maps_cost_less_than_disagreeing_ones():
    # a property: two maps peaked on the same pixel agree (L_sim 0) and R is that pixel (std
    # 0); peaks apart make R both pixels, where each map is 1 on one and 0 on the other
    peak = torch.zeros(1, 4, 4)
    peak[0, 1, 2] = 1.0
    other = torch.zeros(1, 4, 4)
    other[0, 3, 0] = 1.0
    same_sim, same_cst = self_consistency_loss(peak, peak.clone(), std_over='roi')
    diff_sim, diff_cst = self_consistency_loss(peak, other, std_over='roi')
    assert same_sim.item() == 0 and diff_sim.item() > 0
    assert same_cst < diff_cst
