"""The [REG] box loss of CAM-WSVG: smooth-L1 + GIoU towards a (self-taught) target box."""

from typing import Optional

from mmdet.models.losses import smooth_l1_loss
from mmdet.models.losses.iou_loss import giou_loss
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy
from mmengine.model import BaseModule
from torch import Tensor

from mmgrounding.registry import MODELS


def reg_box_loss(
    pred_cxcywh: Tensor,
    target_cxcywh: Tensor,
    *,
    weights: Optional[Tensor] = None,
    beta: float = 1.0,
    giou_weight: float = 1.0,
) -> Tensor:
    """TransVG's box loss on image-normalised boxes: smooth-L1 (mean over the 4 numbers)
    plus ``giou_weight`` · (1 − GIoU), averaged over the boxes of weight > 0.

    Args:
        pred_cxcywh: (P, 4) predicted (cx, cy, w, h) in [0, 1].
        target_cxcywh: (P, 4) targets (not differentiated).
        weights: (P,) per-box weights (default 1).
        beta: smooth-L1 transition point.
        giou_weight: factor of the GIoU term.

    Returns:
        Scalar; a finite zero with a gradient path when no box has weight.
    """
    target = target_cxcywh.detach().to(pred_cxcywh.dtype)
    if weights is None:
        weights = pred_cxcywh.new_ones(pred_cxcywh.shape[0])
    weights = weights.detach().to(pred_cxcywh.dtype)
    total = weights.sum()
    if pred_cxcywh.shape[0] == 0 or float(total) <= 0:
        return pred_cxcywh.sum() * 0.0
    l1 = smooth_l1_loss(pred_cxcywh, target, beta=beta, reduction='none').mean(dim=1)  # (P,)
    giou = giou_loss(bbox_cxcywh_to_xyxy(pred_cxcywh), bbox_cxcywh_to_xyxy(target))  # (P,)
    return ((l1 + giou_weight * giou) * weights).sum() / total


@MODELS.register_module()
class RegBoxLoss(BaseModule):
    """Smooth-L1 + GIoU of the regressed box (CAM-WSVG L_reg, "following RIF").

    Args:
        beta: smooth-L1 β.
        giou_weight: factor of the GIoU term.
        loss_weight: λ_reg (paper: 0.1).
    """

    def __init__(
        self, *, beta: float = 1.0, giou_weight: float = 1.0, loss_weight: float = 0.1
    ) -> None:
        super().__init__()
        self.beta = beta
        self.giou_weight = giou_weight
        self.loss_weight = loss_weight

    def forward(
        self, pred_cxcywh: Tensor, target_cxcywh: Tensor, *, weights: Optional[Tensor] = None
    ) -> Tensor:
        return self.loss_weight * reg_box_loss(
            pred_cxcywh,
            target_cxcywh,
            weights=weights,
            beta=self.beta,
            giou_weight=self.giou_weight,
        )
