"""Attention mask consistency (AMC, Yang et al., CVPR 2023, Eqs. 7–9)."""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmgrounding.registry import MODELS

VARIANTS = ('mean_max', 'mean', 'max', 'cosine')
MEAN_POOLINGS = ('sample', 'batch')


def amc_loss(cam: Tensor,
             box_mask: Tensor,
             *,
             margin_mean: float = 0.1,
             margin_max: float = 0.5,
             weight_mean: float = 0.2,
             weight_max: float = 0.8,
             variant: str = 'mean_max',
             mean_pooling: str = 'sample') -> Tensor:
    """Attention-mask consistency per sample.

    L_mean = max(0, mean(A outside M) − mean(A inside M) + Δ1)   (Eq. 7)
    L_max  = max(0, max(A outside M) − max(A inside M) + Δ2)     (Eq. 8)
    L      = w_mean · L_mean + w_max · L_max                      (Eq. 9, 0.2 and 0.8)
    Variants of the paper's ablation: ``'mean'`` (L_mean only), ``'max'`` (L_max only),
    ``'cosine'`` (1 − cos(A, M) over the flattened maps).

    Args:
        cam: (B, h, w) non-negative Grad-CAM maps.
        box_mask: (B, h, w) in {0, 1}; 1 inside the annotated region.
        mean_pooling: where L_mean's means are taken: ``'sample'`` (the paper's Eq. 7, one
            hinge per sample) or ``'batch'`` (the official training code: the inside and
            outside means pooled over the pixels of all samples with a defined margin, one
            hinge for the batch, its value given to each of those samples).

    Returns:
        (B,) unreduced loss. A sample whose mask has no inside or no outside pixel gets 0 (its
        margins are undefined) while the graph stays connected, so gradients are finite.
    """
    if variant not in VARIANTS:
        raise ValueError(f'variant must be one of {VARIANTS}, got {variant!r}')
    if mean_pooling not in MEAN_POOLINGS:
        raise ValueError(f'mean_pooling must be one of {MEAN_POOLINGS}, got {mean_pooling!r}')
    cam = cam.flatten(1)  # (B, h*w)
    inside = box_mask.flatten(1).to(cam.dtype)
    if variant == 'cosine':
        return 1 - F.cosine_similarity(cam, inside, dim=1, eps=1e-8)
    outside = 1 - inside
    n_in, n_out = inside.sum(dim=1), outside.sum(dim=1)
    valid = (n_in > 0) & (n_out > 0)
    loss = cam.new_zeros(cam.shape[0]) + 0 * cam.sum(dim=1)  # keeps the graph for empty masks
    if variant in ('mean_max', 'mean'):
        if mean_pooling == 'sample':
            mean_in = (cam * inside).sum(dim=1) / n_in.clamp(min=1)
            mean_out = (cam * outside).sum(dim=1) / n_out.clamp(min=1)
        else:  # one mean over the pixels of every sample with a defined margin
            keep = valid.to(cam.dtype)[:, None]
            mean_in = (cam * inside * keep).sum() / (n_in * keep[:, 0]).sum().clamp(min=1)
            mean_out = (cam * outside * keep).sum() / (n_out * keep[:, 0]).sum().clamp(min=1)
            mean_in, mean_out = mean_in.expand(cam.shape[0]), mean_out.expand(cam.shape[0])
        l_mean = (mean_out - mean_in + margin_mean).clamp(min=0)
        loss = loss + (weight_mean if variant == 'mean_max' else 1.0) * l_mean
    if variant in ('mean_max', 'max'):
        lowest = torch.finfo(cam.dtype).min
        max_in = cam.masked_fill(inside == 0, lowest).max(dim=1).values
        max_out = cam.masked_fill(outside == 0, lowest).max(dim=1).values
        l_max = (torch.where(valid, max_out - max_in, torch.zeros_like(max_in))
                 + margin_max).clamp(min=0)
        loss = loss + (weight_max if variant == 'mean_max' else 1.0) * l_max
    return torch.where(valid, loss, 0 * loss)


@MODELS.register_module()
class AMCLoss(nn.Module):
    """Thin wrapper of :func:`amc_loss`: hyperparameters, weight and reduction.

    Args:
        variant, margin_mean, margin_max, weight_mean, weight_max, mean_pooling: see
            :func:`amc_loss`. With ``mean_pooling='batch'`` and the ``'mean'`` reduction the
            result is w_mean · (the batch's L_mean) + w_max · (the mean of L_max), the
            official code's loss.
        loss_weight: multiplies the reduced loss.
        reduction: ``'mean'`` over samples with a defined margin, ``'sum'`` or ``'none'``.
    """

    def __init__(self,
                 *,
                 variant: str = 'mean_max',
                 margin_mean: float = 0.1,
                 margin_max: float = 0.5,
                 weight_mean: float = 0.2,
                 weight_max: float = 0.8,
                 mean_pooling: str = 'sample',
                 loss_weight: float = 1.0,
                 reduction: str = 'mean') -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f'variant must be one of {VARIANTS}, got {variant!r}')
        if mean_pooling not in MEAN_POOLINGS:
            raise ValueError(
                f'mean_pooling must be one of {MEAN_POOLINGS}, got {mean_pooling!r}')
        self.kwargs = dict(variant=variant, margin_mean=margin_mean, margin_max=margin_max,
                           weight_mean=weight_mean, weight_max=weight_max,
                           mean_pooling=mean_pooling)
        self.loss_weight = loss_weight
        self.reduction = reduction

    def forward(self, cam: Tensor, box_mask: Tensor) -> Tensor:
        loss = amc_loss(cam, box_mask, **self.kwargs)
        if self.reduction == 'none':
            return self.loss_weight * loss
        if self.reduction == 'sum':
            return self.loss_weight * loss.sum()
        flat = box_mask.flatten(1)
        valid = (flat.sum(dim=1) > 0) & (flat.sum(dim=1) < flat.shape[1])
        if self.kwargs['variant'] == 'cosine':
            valid = flat.sum(dim=1) > 0
        return self.loss_weight * loss.sum() / valid.sum().clamp(min=1)
