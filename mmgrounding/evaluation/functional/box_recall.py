"""Recall@k of ranked boxes against a phrase's ground truth at IoU >= (or >) a threshold."""

import torch
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

PROTOCOLS = ('any', 'union')
# How an IoU is computed:
# - 'continuous': mmdet's bbox_overlaps on continuous boxes (ours);
# - 'pixel_inclusive': the official InfoGround IoU (BigRedT/info-ground utils/bbox_utils.py
#   compute_iou / compute_area): both boxes are inclusive pixel ranges, area
#   (x2 - x1 + 1) * (y2 - y1 + 1), a box with x2 <= x1 or y2 <= y1 has no area (so an
#   intersection one pixel wide counts as empty), IoU = inter / (union + 1e-6).
IOU_CONVENTIONS = ('continuous', 'pixel_inclusive')


def union_box(boxes_xyxy: Tensor) -> Tensor:
    """(n, 4) -> (4,) the smallest box enclosing all of them."""
    return torch.cat([boxes_xyxy[:, :2].min(dim=0).values, boxes_xyxy[:, 2:].max(dim=0).values])


def pixel_inclusive_iou(boxes1_xyxy: Tensor, boxes2_xyxy: Tensor) -> Tensor:
    """IoU of every pair of boxes as the official InfoGround evaluation computes it.

    Args:
        boxes1_xyxy: (K, 4) boxes.
        boxes2_xyxy: (n, 4) boxes.

    Returns:
        (K, n) IoU: areas count pixels inclusively, ``(x2 - x1 + 1) * (y2 - y1 + 1)``; an
        intersection with ``x2 <= x1`` or ``y2 <= y1`` is 0; the union gets ``+ 1e-6``.
    """
    a = boxes1_xyxy.double()[:, None]  # (K, 1, 4)
    b = boxes2_xyxy.double()[None]  # (1, n, 4)

    def area(box: Tensor) -> Tensor:
        w, h = box[..., 2] - box[..., 0], box[..., 3] - box[..., 1]
        return torch.where((w > 0) & (h > 0), (w + 1) * (h + 1), torch.zeros_like(w))

    inter = area(
        torch.cat(
            [torch.maximum(a[..., :2], b[..., :2]), torch.minimum(a[..., 2:], b[..., 2:])], dim=-1
        )
    )  # (K, n)
    union = area(a) + area(b) - inter
    return (inter / (union + 1e-6)).float()


def box_ious(boxes1_xyxy: Tensor, boxes2_xyxy: Tensor, *, iou: str = 'continuous') -> Tensor:
    """(K, 4) x (n, 4) -> (K, n) IoU under a convention of :data:`IOU_CONVENTIONS`."""
    if iou not in IOU_CONVENTIONS:
        raise ValueError(f'iou must be one of {IOU_CONVENTIONS}, got {iou!r}')
    if iou == 'pixel_inclusive':
        return pixel_inclusive_iou(boxes1_xyxy, boxes2_xyxy)
    return bbox_overlaps(boxes1_xyxy.float(), boxes2_xyxy.float())


def box_recall_hits(
    ranked_boxes: Tensor,
    gt_boxes: Tensor,
    topk: tuple[int, ...],
    *,
    protocol: str = 'any',
    iou_thr: float = 0.5,
    strict_iou: bool = False,
    iou: str = 'continuous',
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
        iou: ``'continuous'`` (mmdet ``bbox_overlaps``) or ``'pixel_inclusive'`` (the
            official InfoGround ``compute_iou``, :func:`pixel_inclusive_iou`); the boxes are
            taken as given (pass :func:`~.pointing.official_gt_boxes` for the official
            ground truth).

    Returns:
        (len(topk),) bool.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f'protocol must be one of {PROTOCOLS}, got {protocol!r}')
    if ranked_boxes.numel() == 0 or gt_boxes.numel() == 0:
        return torch.zeros(len(topk), dtype=torch.bool)
    if protocol == 'union':
        gt_boxes = union_box(gt_boxes)[None]
    ious = box_ious(ranked_boxes, gt_boxes, iou=iou)  # (K, n)
    correct = (ious > iou_thr if strict_iou else ious >= iou_thr).any(dim=1)  # (K,)
    if not bool(correct.any()):
        return torch.zeros(len(topk), dtype=torch.bool)
    first_correct = int(correct.float().argmax())  # 0-based rank of the first correct box
    return torch.tensor([first_correct < k for k in topk], dtype=torch.bool)
