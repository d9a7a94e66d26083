"""CKD's distillation loss L_RP (Eq. 4) with pseudo labels from detector classes (Eq. 3)."""

import torch
from mmdet.structures.bbox import bbox_overlaps
from mmengine.model import BaseModule
from torch import Tensor

from mmgrounding.registry import MODELS

from .contrastive import soft_cross_entropy


def ckd_pseudo_labels(
    class_probs: Tensor,
    phrase_class: Tensor,
    *,
    region_mask: Tensor | None = None,
    eps: float = 1e-12,
) -> Tensor:
    """p̂(x_l, y) ∝ Σ_z p(y, z) p(z | x_l), normalised over the K regions of the image (Eq. 3).

    Args:
        class_probs: (P, K, C) p(z | x) of the regions of each phrase's image (the detector's
            class probabilities; a background column may be left out or kept with zero
            ``phrase_class`` weight).
        phrase_class: (P, C) p(y, z): how much phrase y matches class z (one-hot from the
            head-noun/WordNet rule, or soft).
        region_mask: (P, K) bool, False for padded regions (they get zero mass).
        eps: guards a phrase whose class no region has any probability of.

    Returns:
        (P, K) distributions over regions (rows sum to 1; uniform over valid regions when
        the unnormalised row is all zero).
    """
    weights = (class_probs * phrase_class[:, None, :]).sum(dim=2)  # (P, K)
    if region_mask is not None:
        weights = weights * region_mask.to(weights.dtype)
    total = weights.sum(dim=1, keepdim=True)
    if region_mask is None:
        uniform = weights.new_full(weights.shape, 1.0 / weights.shape[1])
    else:
        valid = region_mask.to(weights.dtype)
        uniform = valid / valid.sum(dim=1, keepdim=True).clamp(min=1)
    return (weights / total.clamp(min=eps)).where(total > eps, uniform)


def ckd_region_phrase_loss(
    scores: Tensor,
    class_probs: Tensor,
    phrase_class: Tensor,
    *,
    temperature: float,
    region_mask: Tensor | None = None,
) -> Tensor:
    """Cross-entropy between the pseudo labels p̂ and softmax_l s(x_l, y)/τ (Eq. 4).

    Args:
        scores: (P, K) s(x_l, y) of each phrase against the regions of its own image.
        class_probs: (P, K, C) detector class probabilities of those regions.
        phrase_class: (P, C) p(y, z).
        temperature: τ.
        region_mask: (P, K) bool, False for padded regions.

    Returns:
        (P,) unreduced losses.
    """
    targets = ckd_pseudo_labels(class_probs, phrase_class, region_mask=region_mask)
    logits = scores / temperature
    if region_mask is not None:
        logits = logits.masked_fill(~region_mask, -1e4)
    return soft_cross_entropy(logits, targets)


def top_region_neighbours(
    scores: Tensor, boxes_xyxy: Tensor, *, num_regions: int = 8, region_mask: Tensor | None = None
) -> Tensor:
    """The regions of highest IoU with each phrase's top-scoring region (itself included).

    The official CKD code distils over these regions only (``K = 8``: ``tf.nn.top_k`` of the
    region IoUs at the top region of the phrase's own image), not over all proposals.

    Args:
        scores: (P, K) s(x_l, y) against the regions of the phrase's image.
        boxes_xyxy: (P, K, 4) those regions' boxes.
        num_regions: k; at most the number of regions.
        region_mask: (P, K) bool, False for padded regions (never the top, never chosen).

    Returns:
        (P, k) region indices by decreasing IoU with the top region (the top region first);
        a padded slot (an image with fewer than k real regions) repeats index -1.
    """
    if region_mask is None:
        region_mask = torch.ones_like(scores, dtype=torch.bool)
    top = scores.masked_fill(~region_mask, float('-inf')).argmax(dim=1)  # (P,)
    rows = torch.arange(scores.shape[0], device=scores.device)
    top_boxes = boxes_xyxy[rows, top]  # (P, 4)
    ious = bbox_overlaps(top_boxes[:, None].float(), boxes_xyxy.float())[:, 0]  # (P, K)
    ious = ious.masked_fill(~region_mask, -1.0)
    ious[rows, top] = 2.0  # the top region first, even if its box is empty
    k = min(num_regions, scores.shape[1])
    values, index = ious.topk(k, dim=1)  # (P, k)
    return torch.where(values >= 0, index, torch.full_like(index, -1))


def ckd_top_iou_region_phrase_loss(
    scores: Tensor,
    class_probs: Tensor,
    phrase_class: Tensor,
    boxes_xyxy: Tensor,
    *,
    temperature: float,
    num_regions: int = 8,
    region_mask: Tensor | None = None,
) -> Tensor:
    """L_RP over the ``num_regions`` regions of highest IoU with the top region (official).

    The pseudo labels (Eq. 3) and the softmax of s/τ are both taken over these regions only
    (:func:`top_region_neighbours`); the choice of regions carries no gradient.

    Args: as :func:`ckd_region_phrase_loss`, plus ``boxes_xyxy`` (P, K, 4) and ``num_regions``.

    Returns:
        (P,) unreduced losses.
    """
    index = top_region_neighbours(
        scores.detach(), boxes_xyxy, num_regions=num_regions, region_mask=region_mask
    )  # (P, k)
    kept = index >= 0
    safe = index.clamp(min=0)
    sub_scores = scores.gather(1, safe)  # (P, k)
    sub_probs = class_probs.gather(1, safe[..., None].expand(-1, -1, class_probs.shape[2]))
    return ckd_region_phrase_loss(
        sub_scores, sub_probs, phrase_class, temperature=temperature, region_mask=kept
    )


TARGET_REGIONS = ('all', 'top_iou')


@MODELS.register_module()
class CKDRegionPhraseLoss(BaseModule):
    """L_RP: distillation of detector-class pseudo labels into region–phrase scores.

    Args:
        temperature: τ (paper: 0.5).
        loss_weight: constant factor; the λ staircase is applied by the grounder.
        target_regions: ``'all'`` (the paper's "simple choice": every proposal of the image)
            or ``'top_iou'`` (the official code: the ``num_target_regions`` regions of highest
            IoU with the phrase's top region, :func:`ckd_top_iou_region_phrase_loss`).
        num_target_regions: k of ``'top_iou'`` (official: 8).
    """

    def __init__(
        self,
        *,
        temperature: float = 0.5,
        loss_weight: float = 1.0,
        target_regions: str = 'all',
        num_target_regions: int = 8,
    ) -> None:
        super().__init__()
        if target_regions not in TARGET_REGIONS:
            raise ValueError(
                f'target_regions must be one of {TARGET_REGIONS}, got {target_regions!r}'
            )
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.target_regions = target_regions
        self.num_target_regions = num_target_regions

    def forward(
        self,
        scores: Tensor,
        class_probs: Tensor,
        phrase_class: Tensor,
        *,
        region_mask: Tensor | None = None,
        boxes_xyxy: Tensor | None = None,
    ) -> Tensor:
        """Mean over the phrases given (callers pass only phrases mapped to a class).

        ``boxes_xyxy`` (P, K, 4), the regions' boxes, is needed by ``'top_iou'``.
        """
        if scores.shape[0] == 0:
            return scores.sum() * 0.0  # no mapped phrase: zero, gradients still flow
        if self.target_regions == 'top_iou':
            if boxes_xyxy is None:
                raise ValueError("target_regions='top_iou' needs the regions' boxes_xyxy")
            losses = ckd_top_iou_region_phrase_loss(
                scores,
                class_probs,
                phrase_class,
                boxes_xyxy,
                temperature=self.temperature,
                num_regions=self.num_target_regions,
                region_mask=region_mask,
            )
        else:
            losses = ckd_region_phrase_loss(
                scores,
                class_probs,
                phrase_class,
                temperature=self.temperature,
                region_mask=region_mask,
            )
        return self.loss_weight * losses.mean()
