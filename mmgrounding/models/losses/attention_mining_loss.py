"""Attention mining (GAIN, Li et al. CVPR 2018; CAM-WSVG §3.3): the class score on what the
map leaves out of the image."""

from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmgrounding.registry import MODELS


def soft_mask(maps: Tensor, *, sigma: float = 0.5, omega: float = 10.0) -> Tensor:
    """GAIN's differentiable threshold T(A) = sigmoid(ω (A − σ)), elementwise."""
    return torch.sigmoid(omega * (maps - sigma))


def erase_attended(
    images: Tensor, maps: Tensor, *, sigma: float = 0.5, omega: float = 10.0
) -> Tensor:
    """I* = I − T(A) ⊙ I: the image without the region the map attends to.

    Args:
        images: (P, 3, H, W) normalised images (0 is the mean colour, what erasing leaves).
        maps: (P, h, w) maps in [0, 1] spanning the image; upsampled bilinearly to (H, W).

    Returns:
        (P, 3, H, W).
    """
    mask = F.interpolate(
        maps[:, None].to(images.dtype),
        size=images.shape[-2:],
        mode='bilinear',
        align_corners=False,
    )  # (P, 1, H, W)
    return images - soft_mask(mask, sigma=sigma, omega=omega) * images


def attention_mining_loss(logits: Tensor, class_mask: Tensor) -> Tensor:
    """L_am = S^c(I*): the mean sigmoid score of each query's classes on its erased image.

    Args:
        logits: (P, C) classifier logits of the erased images I*.
        class_mask: (P, C) bool, True at the classes of each query's noun (a query without
            any contributes nothing).

    Returns:
        Scalar; a finite zero with a gradient path when no query has a class.
    """
    weights = class_mask.to(logits.dtype)
    counts = weights.sum(dim=1)  # (P,)
    has = counts > 0
    if not bool(has.any()):
        return logits.sum() * 0.0
    per_query = (logits.sigmoid() * weights).sum(dim=1)[has] / counts[has]  # (P',)
    return per_query.mean()


@MODELS.register_module()
class AttentionMiningLoss(BaseModule):
    """GAIN's attention mining with the soft mask; the classifier is the caller's (frozen).

    ``erase`` makes I* from the images and maps; the caller runs the classifier on it and
    ``forward`` scores the result. With ``area_weight`` > 0 the mean soft mask over each map
    is added (interpretation: with a frozen classifier nothing else stops a map from
    covering the whole image, which trivially minimises S^c(I*); GAIN's classification
    stream plays this part, see docs/methods/camwsvg.md).

    Args:
        sigma: σ (GAIN: 0.5).
        omega: ω (GAIN: 10).
        area_weight: factor of the mean T(A) term.
        loss_weight: λ_am (paper: 1).
    """

    def __init__(
        self,
        *,
        sigma: float = 0.5,
        omega: float = 10.0,
        area_weight: float = 0.0,
        loss_weight: float = 1.0,
    ) -> None:
        super().__init__()
        self.sigma = sigma
        self.omega = omega
        self.area_weight = area_weight
        self.loss_weight = loss_weight

    def erase(self, images: Tensor, maps: Tensor) -> Tensor:
        return erase_attended(images, maps, sigma=self.sigma, omega=self.omega)

    def forward(
        self, logits: Tensor, class_mask: Tensor, *, maps: Optional[Tensor] = None
    ) -> Tensor:
        loss = attention_mining_loss(logits, class_mask)
        if self.area_weight and maps is not None:
            has = class_mask.any(dim=1)
            if bool(has.any()):
                area = soft_mask(maps[has], sigma=self.sigma, omega=self.omega).mean()
                loss = loss + self.area_weight * area
        return self.loss_weight * loss
