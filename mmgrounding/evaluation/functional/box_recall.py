"""Recall@k of ranked boxes against a phrase's ground truth at IoU >= (or >) a threshold."""

import torch
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

PROTOCOLS = ('any', 'union')


def union_box(boxes_xyxy: Tensor) -> Tensor:
    """(n, 4) -> (4,) the smallest box enclosing all of them."""
    return torch.cat([boxes_xyxy[:, :2].min(dim=0).values, boxes_xyxy[:, 2:].max(dim=0).values])


def box_recall_hits(
    ranked_boxes: Tensor,
    gt_boxes: Tensor,
    topk: tuple[int, ...],
    *,
    protocol: str = 'any',
    iou_thr: float = 0.5,
    strict_iou: bool = False,
) -> Tensor:
    """For one phrase, whether a correct box is among the top k, for each k.

    Args:
        ranked_boxes: (K, 4) xyxy boxes, best first.
        gt_boxes: (n, 4) the phrase's ground-truth boxes.
        topk: the k values.
        protocol: ``'any'`` — correct if IoU >= ``iou_thr`` with any ground-truth box;
            ``'union'`` — with the union of the ground-truth boxes (the merged-box protocol
            used for Flickr30k Entities by many grounding papers).
        iou_thr: IoU threshold.
        strict_iou: correct only if IoU > ``iou_thr`` (CKD, CAM-WSVG) instead of
            IoU >= ``iou_thr`` (InfoGround, AMC, most grounding papers).

    Returns:
        (len(topk),) bool.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f'protocol must be one of {PROTOCOLS}, got {protocol!r}')
    if ranked_boxes.numel() == 0 or gt_boxes.numel() == 0:
        return torch.zeros(len(topk), dtype=torch.bool)
    if protocol == 'union':
        gt_boxes = union_box(gt_boxes)[None]
    ious = bbox_overlaps(ranked_boxes.float(), gt_boxes.float())  # (K, n)
    correct = (ious > iou_thr if strict_iou else ious >= iou_thr).any(dim=1)  # (K,)
    if not bool(correct.any()):
        return torch.zeros(len(topk), dtype=torch.bool)
    first_correct = int(correct.float().argmax())  # 0-based rank of the first correct box
    return torch.tensor([first_correct < k for k in topk], dtype=torch.bool)
