"""A focal variant of InfoGround's L_img, composed from mmgrounding's own loss functions."""
from typing import Optional

import torch
from torch import Tensor

from mmgrounding.models.losses.infoground_image_loss import (
    InfoGroundImageLoss,
    infoground_image_loss,
    reduce_token_losses,
)
from mmgrounding.registry import MODELS


def focal_infoground_image_loss(phi: Tensor,
                                token_mask: Tensor,
                                *,
                                positives: Optional[Tensor] = None,
                                temperature: float = 1.0,
                                gamma: float = 2.0) -> Tensor:
    """L_img per token, down-weighted where the token already picks its own image.

    With ℓ the InfoNCE loss of :func:`infoground_image_loss` (itself built on
    :func:`mmgrounding.models.losses.info_nce`) and p = exp(−ℓ), the probability of the
    caption's own image (with several positives, the geometric mean of their
    probabilities), the loss is (1 − p)^γ · ℓ, the focal modulation of Lin et al. (2017).
    γ = 0 gives L_img exactly.

    Args:
        phi: (B, B_r, L) φ(R_c, w_bj) of every caption b with every image c.
        token_mask: (B, L) bool, True for the tokens that count.
        positives: (B, B_r) bool, True where image c is caption b's image; the diagonal when
            None.
        temperature: φ is divided by it.
        gamma: the focusing exponent γ ≥ 0.

    Returns:
        (B, L) losses, 0 at the tokens outside ``token_mask``.
    """
    if gamma < 0:
        raise ValueError(f'gamma must be >= 0, got {gamma}')
    loss = infoground_image_loss(phi, token_mask, positives=positives,
                                 temperature=temperature)  # (B, L), 0 outside the mask
    # 1 − p = −expm1(−ℓ), exact for small ℓ; the floor keeps the derivative of 0^γ finite
    # where ℓ = 0 (unselected tokens), whose loss stays 0 either way
    miss = (-torch.expm1(-loss)).clamp(min=torch.finfo(loss.dtype).tiny)  # (B, L)
    return miss.pow(gamma) * loss


@MODELS.register_module()
class FocalInfoGroundImageLoss(InfoGroundImageLoss):
    """Thin wrapper of :func:`focal_infoground_image_loss`; a drop-in ``image_loss`` of
    :class:`~mmgrounding.models.grounders.InfoGroundGrounder`.

    Args:
        gamma: the focusing exponent γ (0: :class:`InfoGroundImageLoss`).
        temperature, loss_weight, reduction: as :class:`InfoGroundImageLoss`.
    """

    def __init__(self,
                 *,
                 gamma: float = 2.0,
                 temperature: float = 1.0,
                 loss_weight: float = 1.0,
                 reduction: str = 'mean') -> None:
        super().__init__(temperature=temperature, loss_weight=loss_weight, reduction=reduction)
        if gamma < 0:
            raise ValueError(f'gamma must be >= 0, got {gamma}')
        self.gamma = gamma

    def forward(self, phi: Tensor, token_mask: Tensor,
                positives: Optional[Tensor] = None) -> Tensor:
        """phi (B, B_r, L), token_mask (B, L), positives (B, B_r) -> the reduced loss."""
        loss = focal_infoground_image_loss(phi, token_mask, positives=positives,
                                           temperature=self.temperature, gamma=self.gamma)
        return self.loss_weight * reduce_token_losses(loss, token_mask, self.reduction)
