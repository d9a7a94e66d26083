"""What went wrong with a phrase's top box: the wrong object, or the right one boxed poorly.

An error analysis for grounders that answer with one box chosen among (or refined from) a
detector's proposals (CAM-WSVG's select-then-refine, ReIR): for every phrase, how its answer
relates to its ground truth and to the proposals the model chose from.
"""

import torch
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

# the kinds of one phrase's answer, in the order the metric reports them
BOX_ERROR_KINDS = ('correct', 'poor_box', 'other_object')


def box_error_kind(
    answer_xyxy: Tensor,
    gt_boxes_xyxy: Tensor,
    proposals_xyxy: Tensor,
    proposal_labels: Tensor,
    *,
    iou_thr: float = 0.5,
    near_thr: float = 0.1,
    strict_iou: bool = True,
) -> dict:
    """Classify one phrase's answer.

    Args:
        answer_xyxy: (4,) the phrase's top box.
        gt_boxes_xyxy: (n, 4) its ground-truth boxes, n ≥ 1 (the best one counts).
        proposals_xyxy: (M, 4) the detector proposals of its image, M ≥ 0.
        proposal_labels: (M,) their detector labels.
        iou_thr: a box is correct at IoU > ``iou_thr`` (``strict_iou``, CAM-WSVG's and CKD's
            rule) or IoU ≥ ``iou_thr``.
        near_thr: an answer of IoU in (``near_thr``, correct) overlaps the right object
            (``'poor_box'``); at IoU ≤ ``near_thr`` it is ``'other_object'``.
        strict_iou: see ``iou_thr``.

    Returns:
        ``kind`` (one of :data:`BOX_ERROR_KINDS`); ``iou`` the answer's best IoU with the
        ground truth; ``same_label_holds``: a proposal with the detector label of the
        answer's proposal (the proposal of highest IoU with the answer) is correct, i.e. the
        model picked the right class but another box of it (False without proposals);
        ``oracle``: some proposal is correct (the ceiling of choosing among them).
    """
    if gt_boxes_xyxy.numel() == 0:
        raise ValueError('box_error_kind needs at least one ground-truth box')
    if near_thr >= iou_thr:
        raise ValueError(f'near_thr ({near_thr}) must be below iou_thr ({iou_thr})')
    answer = answer_xyxy.float().reshape(1, 4)
    gt = gt_boxes_xyxy.float().reshape(-1, 4)

    def hit(iou: Tensor) -> Tensor:
        return iou > iou_thr if strict_iou else iou >= iou_thr

    iou = float(bbox_overlaps(answer, gt).max())
    if bool(hit(torch.tensor(iou))):
        kind = 'correct'
    elif iou > near_thr:
        kind = 'poor_box'
    else:
        kind = 'other_object'
    proposals = proposals_xyxy.float().reshape(-1, 4)
    if len(proposals):
        proposal_hits = hit(bbox_overlaps(proposals, gt).max(dim=1).values)  # (M,)
        anchor = int(bbox_overlaps(answer, proposals)[0].argmax())
        same_label = proposal_labels.reshape(-1) == proposal_labels.reshape(-1)[anchor]
        same_label_holds = bool(proposal_hits[same_label].any())
        oracle = bool(proposal_hits.any())
    else:
        same_label_holds = oracle = False
    return dict(kind=kind, iou=iou, same_label_holds=same_label_holds, oracle=oracle)
