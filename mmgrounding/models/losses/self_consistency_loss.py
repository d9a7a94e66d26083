"""SelfEQ's self-consistency of a phrase's and its paraphrase's Grad-CAM maps.

He, Yang, Ordonez et al., *Improved Visual Grounding through Self-Consistent Explanations*,
CVPR 2024 (public code: uvavision/SelfEQ).
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgrounding.registry import MODELS

POOLINGS = ('batch', 'sample')
STD_OVER = ('masked_map', 'roi')


def _std(values: Tensor, weights: Tensor) -> Tensor:
    """Unbiased standard deviation per row of ``values`` (G, M) over the entries whose
    ``weights`` are 1; 0 for rows with fewer than two such entries (finite gradients)."""
    count = weights.sum(dim=1)
    mean = (values * weights).sum(dim=1) / count.clamp(min=1)
    var = (((values - mean[:, None]) ** 2) * weights).sum(dim=1) / (count - 1).clamp(min=1)
    std = var.clamp(min=1e-12).sqrt()  # clamp: sqrt has an infinite slope at 0
    return torch.where(count > 1, std, 0 * std)


def self_consistency_loss(
    cam: Tensor,
    cam_para: Tensor,
    *,
    k: float = 0.8,
    pooling: str = 'batch',
    std_over: str = 'masked_map',
    beta: float = 1.0,
) -> tuple[Tensor, Tensor]:
    """L_sim and L_cst of SelfEQ for the maps G of the phrases and G' of their paraphrases.

    L_sim = smooth-L1(G', G), the mean over pixels and samples (``beta`` is its threshold)
    R     = {pixels: G + G' ≥ k}                      (no gradient through the choice of R)
    L_cst = std(G' on R) + std(G on R) + max(0, k/2 − mean(G' on R)) + max(0, k/2 − mean(G on R))

    The official code takes one R over the whole batch (``pooling='batch'``) and the
    standard deviations of the masked maps G·1[R] over all their pixels, zeros outside R
    included (``std_over='masked_map'``); ``pooling='sample'`` takes R, the stds and the
    hinges per sample and averages them over the samples with a non-empty R, and
    ``std_over='roi'`` takes the stds over the pixels of R only (the paper's wording).
    Standard deviations are unbiased (``torch.std``), means over R are sum / |R|.

    Args:
        cam: (B, h, w) maps of the phrases, normalised to [0, 1] per sample (min–max).
        cam_para: (B, h, w) maps of their paraphrases, the same way.
        k: the threshold of R (0.8); the hinges ask for a mean of at least k / 2 on R.

    Returns:
        ``(l_sim, l_cst)``, two scalars. An empty R (or an empty batch) gives L_cst = 0 with
        the graph kept, so that gradients stay finite.
    """
    if pooling not in POOLINGS:
        raise ValueError(f'pooling must be one of {POOLINGS}, got {pooling!r}')
    if std_over not in STD_OVER:
        raise ValueError(f'std_over must be one of {STD_OVER}, got {std_over!r}')
    if cam.shape != cam_para.shape:
        raise ValueError(
            f'the maps differ in shape: {tuple(cam.shape)} and {tuple(cam_para.shape)}'
        )
    g, g_para = cam.flatten(1), cam_para.flatten(1)  # (B, N)
    if g.shape[0] == 0:
        zero = g.sum() + g_para.sum()
        return zero, zero
    l_sim = F.smooth_l1_loss(g_para, g, beta=beta)
    roi = (g + g_para >= k).to(g.dtype).detach()  # (B, N)
    if pooling == 'batch':  # one group holding every pixel of the batch
        g, g_para, roi = g.reshape(1, -1), g_para.reshape(1, -1), roi.reshape(1, -1)
    size = roi.sum(dim=1)  # (G,) |R| per group
    terms = []
    for m in (g_para, g):
        if std_over == 'masked_map':
            std = _std(m * roi, torch.ones_like(roi))
        else:
            std = _std(m, roi)
        mean = (m * roi).sum(dim=1) / size.clamp(min=1)
        terms.append(std + (k / 2 - mean).clamp(min=0))
    cst = terms[0] + terms[1]  # (G,)
    defined = size > 0
    l_cst = torch.where(defined, cst, 0 * cst).sum() / defined.sum().clamp(min=1)
    return l_sim, l_cst


@MODELS.register_module()
class SelfConsistencyLoss(nn.Module):
    """Thin wrapper of :func:`self_consistency_loss`: hyperparameters and weights.

    Args:
        k, pooling, std_over, beta: see :func:`self_consistency_loss`.
        weight_sim: weight of L_sim (SelfEQ: 1).
        weight_cst: weight of L_cst (SelfEQ: 0.5).

    Returns (forward): ``dict(loss_sim=weight_sim · L_sim, loss_cst=weight_cst · L_cst)``.
    """

    def __init__(
        self,
        *,
        k: float = 0.8,
        pooling: str = 'batch',
        std_over: str = 'masked_map',
        beta: float = 1.0,
        weight_sim: float = 1.0,
        weight_cst: float = 0.5,
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f'pooling must be one of {POOLINGS}, got {pooling!r}')
        if std_over not in STD_OVER:
            raise ValueError(f'std_over must be one of {STD_OVER}, got {std_over!r}')
        self.kwargs = dict(k=k, pooling=pooling, std_over=std_over, beta=beta)
        self.weight_sim = weight_sim
        self.weight_cst = weight_cst

    def forward(self, cam: Tensor, cam_para: Tensor) -> dict:
        l_sim, l_cst = self_consistency_loss(cam, cam_para, **self.kwargs)
        return dict(loss_sim=self.weight_sim * l_sim, loss_cst=self.weight_cst * l_cst)
