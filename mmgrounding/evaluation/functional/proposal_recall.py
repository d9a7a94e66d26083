"""Proposal recall: how many ground-truth boxes the top-k detector boxes cover."""
import torch
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor


def proposal_recall_hits(proposals_xyxy: Tensor,
                         gt_boxes_xyxy: Tensor,
                         topk: tuple[int, ...],
                         *,
                         iou_thr: float = 0.5) -> Tensor:
    """For each ground-truth box, whether one of the first k proposals covers it.

    The ceiling of every method that grounds a phrase by choosing among detector boxes:
    a box no proposal covers at IoU >= ``iou_thr`` cannot be found.

    Args:
        proposals_xyxy: (K, 4) proposals, best first.
        gt_boxes_xyxy: (n, 4) ground-truth boxes.
        topk: the k values.
        iou_thr: IoU threshold.

    Returns:
        (n, len(topk)) bool. ``k`` larger than K counts all K proposals.
    """
    num_gt = gt_boxes_xyxy.shape[0]
    if num_gt == 0 or proposals_xyxy.numel() == 0:
        return torch.zeros((num_gt, len(topk)), dtype=torch.bool)
    covered = bbox_overlaps(gt_boxes_xyxy.float(), proposals_xyxy.float()) >= iou_thr  # (n, K)
    return torch.stack([covered[:, :k].any(dim=1) for k in topk], dim=1)
