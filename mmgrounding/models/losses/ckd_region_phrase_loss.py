"""CKD's distillation loss L_RP (Eq. 4) with pseudo labels from detector classes (Eq. 3)."""
from mmengine.model import BaseModule
from torch import Tensor

from mmgrounding.registry import MODELS

from .contrastive import soft_cross_entropy


def ckd_pseudo_labels(class_probs: Tensor, phrase_class: Tensor, *,
                      region_mask: Tensor | None = None, eps: float = 1e-12) -> Tensor:
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


def ckd_region_phrase_loss(scores: Tensor, class_probs: Tensor, phrase_class: Tensor, *,
                           temperature: float, region_mask: Tensor | None = None) -> Tensor:
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


@MODELS.register_module()
class CKDRegionPhraseLoss(BaseModule):
    """L_RP: distillation of detector-class pseudo labels into region–phrase scores.

    Args:
        temperature: τ (paper: 0.5).
        loss_weight: constant factor; the λ staircase is applied by the grounder.
    """

    def __init__(self, *, temperature: float = 0.5, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.temperature = temperature
        self.loss_weight = loss_weight

    def forward(self, scores: Tensor, class_probs: Tensor, phrase_class: Tensor, *,
                region_mask: Tensor | None = None) -> Tensor:
        """Mean over the phrases given (callers pass only phrases mapped to a class)."""
        if scores.shape[0] == 0:
            return scores.sum() * 0.0  # no mapped phrase: zero, gradients still flow
        losses = ckd_region_phrase_loss(scores, class_probs, phrase_class,
                                        temperature=self.temperature, region_mask=region_mask)
        return self.loss_weight * losses.mean()
