"""The max-margin image–sentence loss of CKD's ablation (Eq. 7)."""
from mmengine.model import BaseModule
from torch import Tensor

from mmgrounding.registry import MODELS


def max_margin_loss(scores: Tensor, positives: Tensor, *, margin: float) -> Tensor:
    """Σ_{X'} max(0, m − S(X, Y) + S(X', Y)) per sentence Y, X its image, X' the others.

    Args:
        scores: (S_n, B) image–sentence scores, rows sentences, columns images.
        positives: (S_n, B) bool, True for the sentence's own image (the first True column
            of a row is X; other True columns are neither positive nor negative).
        margin: m.

    Returns:
        (S_n,) unreduced losses (sums over the negatives of each sentence).
    """
    own = positives.float().argmax(dim=1)  # (S_n,) first own-image column
    pos = scores.gather(1, own[:, None])  # (S_n, 1)
    hinge = (margin - pos + scores).clamp(min=0)  # (S_n, B)
    return (hinge * (~positives).to(hinge.dtype)).sum(dim=1)


@MODELS.register_module()
class MaxMarginLoss(BaseModule):
    """Max-margin ranking of the sentence's image above the other images of the batch.

    Args:
        margin: m (paper: 0.05).
        loss_weight: factor.
    """

    def __init__(self, *, margin: float = 0.05, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.margin = margin
        self.loss_weight = loss_weight

    def forward(self, scores: Tensor, positives: Tensor) -> Tensor:
        return self.loss_weight * max_margin_loss(scores, positives, margin=self.margin).mean()
