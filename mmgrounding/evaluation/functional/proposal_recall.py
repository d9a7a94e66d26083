"""Proposal recall: how many ground-truth boxes the top-k detector boxes cover."""
import torch
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

from .box_recall import union_box


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


def dataset_proposal_recall(dataset, cache, topk: tuple[int, ...], *, iou_thr: float = 0.5) -> dict:
    """Recall in percent per k of a region cache's boxes over a grounding dataset's phrases.

    ``boxes``: the share of ground-truth phrase boxes covered (a box counts once per phrase
    that names it); ``phrases_any``: the share of phrases with at least one covered box (the
    ceiling of BoxRecall@1 under the ``any`` protocol); ``phrases_union``: the share of phrases
    whose union box is covered (``union`` protocol); and the counts behind them. ``cache`` is a
    :class:`~mmgrounding.datasets.region_cache.RegionCache` holding every image of the dataset.
    """
    box_hits = torch.zeros(len(topk))
    any_hits = torch.zeros(len(topk))
    union_hits = torch.zeros(len(topk))
    num_boxes = num_phrases = 0
    proposals = {}
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        img_id = str(info['img_id'])
        if img_id not in proposals:
            entry = cache.read(img_id, fields=('boxes_xyxy', ), topk=max(topk))
            proposals[img_id] = torch.from_numpy(entry['boxes_xyxy'])
        for phrase in info.get('phrases', []):
            gt = torch.tensor(phrase.get('boxes_xyxy', []), dtype=torch.float32).reshape(-1, 4)
            if len(gt) == 0:
                continue
            hits = proposal_recall_hits(proposals[img_id], gt, topk, iou_thr=iou_thr)
            box_hits += hits.sum(dim=0)
            any_hits += hits.any(dim=0)
            union_hits += proposal_recall_hits(
                proposals[img_id], union_box(gt)[None], topk, iou_thr=iou_thr)[0]
            num_boxes += len(gt)
            num_phrases += 1

    def percent(hits: torch.Tensor, total: int) -> dict:
        return {str(k): round(100 * float(h) / max(total, 1), 2) for k, h in zip(topk, hits)}

    return dict(boxes=percent(box_hits, num_boxes), phrases_any=percent(any_hits, num_phrases),
                phrases_union=percent(union_hits, num_phrases), num_boxes=num_boxes,
                num_phrases=num_phrases, num_images=len(proposals), iou_thr=iou_thr)
