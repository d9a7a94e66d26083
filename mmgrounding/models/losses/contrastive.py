"""The InfoNCE core shared by ITC (ALBEF), InfoGround and CKD."""
import torch
from torch import Tensor


def soft_cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    """−Σ_c targets · log softmax(logits) per row.

    Args:
        logits: (B, C) scores (already divided by the temperature).
        targets: (B, C) distributions over the C candidates (rows sum to 1).

    Returns:
        (B,) losses.
    """
    return -(targets * logits.log_softmax(dim=1)).sum(dim=1)


def info_nce(logits: Tensor, positives: Tensor) -> Tensor:
    """InfoNCE with possibly several positives per row, spread uniformly.

    Args:
        logits: (B, C) similarity / temperature.
        positives: (B, C) bool, True for the candidates that match row b.

    Returns:
        (B,) losses; a row without positives raises (it has no defined loss).
    """
    count = positives.sum(dim=1, keepdim=True)
    if bool((count == 0).any()):
        raise ValueError('every row needs at least one positive')
    return soft_cross_entropy(logits, positives.to(logits.dtype) / count)


def distilled_targets(positives: Tensor, teacher_logits: Tensor, alpha: float) -> Tensor:
    """ALBEF's momentum distillation: α · softmax(teacher) + (1 − α) · uniform over positives."""
    hard = positives.to(teacher_logits.dtype)
    hard = hard / hard.sum(dim=1, keepdim=True).clamp(min=1)
    return alpha * torch.softmax(teacher_logits, dim=1) + (1 - alpha) * hard
