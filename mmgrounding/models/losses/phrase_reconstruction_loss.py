"""Reconstruction of a phrase's words from the visual feature it attends to (ReIR Eq. 13-14)."""

import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmgrounding.registry import MODELS


def phrase_reconstruction_loss(logits: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
    """Mean negative log-likelihood of the phrase words over all real word positions.

    Args:
        logits: (P, L, V) decoder scores of the L word positions of each phrase.
        targets: (P, L) int64 word ids.
        mask: (P, L) bool, True at real words (False at padding).

    Returns:
        Scalar; a finite zero with a gradient path when no position is real.
    """
    if not bool(mask.any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits[mask].float(), targets[mask])


@MODELS.register_module()
class PhraseReconstructionLoss(BaseModule):
    """The sequence log loss of a phrase decoder (ReIR L_rec; CAM-WSVG's reconstruction).

    Args:
        loss_weight: factor (ReIR: 1).
    """

    def __init__(self, *, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, logits: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
        return self.loss_weight * phrase_reconstruction_loss(logits, targets, mask)
