"""The IoU of each phrase's answer box with its ground truth (ReIR's IoU sweep, Fig. 4)."""

import torch
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

from .box_recall import PROTOCOLS, union_box


def phrase_box_ious(
    pred_boxes: Tensor, gt_boxes: Tensor, gt_index: Tensor, *, protocol: str = 'any'
) -> Tensor:
    """IoU of each phrase's predicted box with its ground truth.

    Args:
        pred_boxes: (P, 4) one xyxy answer per phrase.
        gt_boxes: (n, 4) ground-truth boxes of all phrases.
        gt_index: (n,) the phrase of each ground-truth box.
        protocol: ``'any'`` (the best IoU over the phrase's boxes) or ``'union'`` (IoU with
            the union of its boxes, the official ReIR evaluation).

    Returns:
        (P,) float IoU; 0 for a phrase without ground truth.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f'protocol must be one of {PROTOCOLS}, got {protocol!r}')
    ious = torch.zeros(pred_boxes.shape[0])
    for p in range(pred_boxes.shape[0]):
        boxes = gt_boxes[gt_index == p].float()
        if boxes.numel() == 0:
            continue
        if protocol == 'union':
            boxes = union_box(boxes)[None]
        ious[p] = bbox_overlaps(pred_boxes[p : p + 1].float(), boxes).max()
    return ious


def accuracy_at_thresholds(
    ious: Tensor, thresholds: tuple[float, ...], *, strict: bool = False
) -> dict[float, float]:
    """Percentage of IoUs >= each threshold (> with ``strict``)."""
    if ious.numel() == 0:
        return {t: 0.0 for t in thresholds}
    return {
        t: 100.0 * float((ious > t if strict else ious >= t).float().mean()) for t in thresholds
    }
