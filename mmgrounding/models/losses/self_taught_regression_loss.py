"""Self-taught box regression towards each query's most confident box (ReIR Eq. 15, CAM-WSVG)."""

from typing import Optional, Sequence

import torch
from mmdet.models.losses import smooth_l1_loss
from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder
from mmdet.structures.bbox import bbox_overlaps
from mmengine.model import BaseModule
from torch import Tensor

from mmgrounding.registry import MODELS


def delta_coder(delta_weights: Sequence[float]) -> DeltaXYWHBBoxCoder:
    """mmdet's (dx, dy, dw, dh) coder with detectron2-style weights: deltas are multiplied by
    ``delta_weights`` (official ReIR: (10, 10, 5, 5)), i.e. divided by stds = 1 / weights."""
    if len(delta_weights) != 4 or min(delta_weights) <= 0:
        raise ValueError(f'delta_weights must be 4 positive numbers, got {delta_weights}')
    return DeltaXYWHBBoxCoder(
        target_means=(0.0, 0.0, 0.0, 0.0), target_stds=tuple(1.0 / w for w in delta_weights)
    )


def self_taught_regression_targets(
    boxes_xyxy: Tensor,
    scores: Tensor,
    *,
    iou_thr: float = 0.6,
    score_gap: float = 0.1,
    delta_weights: Sequence[float] = (10.0, 10.0, 5.0, 5.0),
    valid: Optional[Tensor] = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Pseudo regression targets: every box near the query's most confident box regresses to it.

    For each query p the box with the highest score is the pseudo ground truth g_p. A box k
    (other than g_p itself) with IoU(box_k, g_p) >= ``iou_thr`` is *selected*; its target is
    the encoded delta from box_k to g_p. A selected box counts in the loss only when its
    score is at least ``score_gap`` below g_p's (the official code's attention gap), since a
    box the model is nearly as sure of is not corrected. The others keep their own
    prediction (no loss).

    Args:
        boxes_xyxy: (P, K, 4) the boxes of each query (the same proposals may repeat).
        scores: (P, K) confidences (ReIR: attention probabilities); not differentiated.
        iou_thr: τ.
        score_gap: the smallest score gap for a selected box to count.
        delta_weights: the (dx, dy, dw, dh) weights of :func:`delta_coder`.
        valid: (P, K) bool, False for padding boxes (never the pseudo ground truth, never
            selected).

    Returns:
        ``(targets, selected, weights)``: (P, K, 4) target deltas (0 where not selected),
        (P, K) bool selected boxes, (P, K) float weights in {0, 1}.
    """
    num_q, num_k = scores.shape
    boxes = boxes_xyxy.float()
    scores = scores.detach().float()
    if valid is None:
        valid = torch.ones_like(scores, dtype=torch.bool)
    if num_q == 0 or num_k == 0:
        return boxes.new_zeros((num_q, num_k, 4)), valid & False, scores.new_zeros((num_q, num_k))
    best = scores.masked_fill(~valid, float('-inf')).argmax(dim=1)  # (P,)
    rows = torch.arange(num_q, device=scores.device)
    anchor = boxes[rows, best]  # (P, 4)
    ious = bbox_overlaps(anchor[:, None], boxes)[:, 0]  # (P, K)
    selected = (ious >= iou_thr) & valid
    selected[rows, best] = False
    selected &= valid.any(dim=1, keepdim=True)
    gap = scores[rows, best][:, None] - scores  # (P, K)
    weights = (selected & (gap >= score_gap)).float()
    coder = delta_coder(delta_weights)
    targets = coder.encode(
        boxes.reshape(-1, 4), anchor[:, None].expand(-1, num_k, -1).reshape(-1, 4)
    ).reshape(num_q, num_k, 4)
    return targets * selected[..., None], selected, weights


def self_taught_regression_loss(
    pred_deltas: Tensor,
    boxes_xyxy: Tensor,
    scores: Tensor,
    *,
    iou_thr: float = 0.6,
    score_gap: float = 0.1,
    delta_weights: Sequence[float] = (10.0, 10.0, 5.0, 5.0),
    beta: float = 1.0,
    valid: Optional[Tensor] = None,
) -> Tensor:
    """Smooth-L1 between predicted and self-taught deltas (:func:`self_taught_regression_targets`).

    As the official code: the weighted smooth-L1 (β = ``beta``) averaged over the 4
    coordinates of every *selected* box (weight 0 boxes count in the denominator).

    Args:
        pred_deltas: (P, K, 4) predicted deltas of the boxes (in the weighted delta space).
        boxes_xyxy, scores, iou_thr, score_gap, delta_weights, valid: as for the targets.
        beta: smooth-L1 transition point.

    Returns:
        Scalar loss; a finite zero (with a gradient path) when nothing is selected.
    """
    targets, selected, weights = self_taught_regression_targets(
        boxes_xyxy,
        scores,
        iou_thr=iou_thr,
        score_gap=score_gap,
        delta_weights=delta_weights,
        valid=valid,
    )
    num_selected = int(selected.sum())
    if num_selected == 0:
        return pred_deltas.sum() * 0.0
    return smooth_l1_loss(
        pred_deltas[selected].float(),
        targets[selected],
        weight=weights[selected][:, None].expand(-1, 4),
        beta=beta,
        reduction='mean',
        avg_factor=4.0 * num_selected,
    )


@MODELS.register_module()
class SelfTaughtRegressionLoss(BaseModule):
    """Self-taught regression (ReIR Eq. 15; CAM-WSVG's pseudo-box regression).

    When it starts is not its business: the grounder multiplies it by a switch that
    :class:`LossWeightStaircaseHook` sets from the global iteration (ReIR: on after 7.5k).

    Args:
        iou_thr: τ (paper: 0.6).
        score_gap: the official attention gap (0.1).
        delta_weights: delta weights (official: (10, 10, 5, 5)).
        beta: smooth-L1 β (official: 1).
        loss_weight: λ1 (paper: 0.1).
    """

    def __init__(
        self,
        *,
        iou_thr: float = 0.6,
        score_gap: float = 0.1,
        delta_weights: Sequence[float] = (10.0, 10.0, 5.0, 5.0),
        beta: float = 1.0,
        loss_weight: float = 0.1,
    ) -> None:
        super().__init__()
        delta_coder(delta_weights)  # validates
        self.iou_thr = iou_thr
        self.score_gap = score_gap
        self.delta_weights = tuple(float(w) for w in delta_weights)
        self.beta = beta
        self.loss_weight = loss_weight

    def forward(
        self,
        pred_deltas: Tensor,
        boxes_xyxy: Tensor,
        scores: Tensor,
        *,
        valid: Optional[Tensor] = None,
    ) -> Tensor:
        return self.loss_weight * self_taught_regression_loss(
            pred_deltas,
            boxes_xyxy,
            scores,
            iou_thr=self.iou_thr,
            score_gap=self.score_gap,
            delta_weights=self.delta_weights,
            beta=self.beta,
            valid=valid,
        )
