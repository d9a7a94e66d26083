"""Classification of the relation between two linked phrases' visual features (ReIR Eq. 16-17)."""

import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmgrounding.registry import MODELS


def relation_classification_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Cross entropy over the pairs whose relation is a vocabulary class (label > 0).

    Args:
        logits: (R, C_r + 1) scores of the R linked pairs; class 0 is "not in the relation
            vocabulary".
        labels: (R,) int64 in [0, C_r]; pairs with 0 take no part.

    Returns:
        Scalar mean over the pairs with a label; a finite zero (with a gradient path) when
        there is none.
    """
    keep = labels > 0
    if not bool(keep.any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits[keep].float(), labels[keep])


@MODELS.register_module()
class RelationClassificationLoss(BaseModule):
    """ReIR's L_rel.

    Args:
        loss_weight: λ2 (paper: 1).
    """

    def __init__(self, *, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, logits: Tensor, labels: Tensor) -> Tensor:
        return self.loss_weight * relation_classification_loss(logits, labels)
