"""Image–caption ranking, hardest negative in both directions (ReIR L_rank, Align2Ground)."""

from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor

from mmgrounding.registry import MODELS

NORMALISATIONS = ('softmax', 'none')


def image_caption_ranking_loss(
    similarity: Tensor,
    *,
    margin: float = 0.2,
    positives: Optional[Tensor] = None,
    normalise: str = 'softmax',
) -> Tensor:
    """Hinge of the hardest negative caption of each image and image of each caption.

    With S the (B, B) similarity of image i (row) and caption j (column), the pair (i, i)
    positive: Σ_i max_{j neg} [m − S_ii + S_ij]_+ + Σ_j max_{i neg} [m − S_jj + S_ij]_+,
    divided by B. The official ReIR code first takes the softmax of S along each direction
    (``normalise='softmax'``), so the margin is on probabilities.

    Args:
        similarity: (B, B) scores, rows images, columns captions, matched on the diagonal.
        margin: m (paper: 0.2).
        positives: (B, B) bool, True where image i belongs to caption j (the diagonal and
            other captions of the same image); such pairs are never negatives. Default: the
            diagonal.
        normalise: ``'softmax'`` (official) or ``'none'``.

    Returns:
        Scalar; a finite zero (with a gradient path) when there is no negative (B = 1).
    """
    if normalise not in NORMALISATIONS:
        raise ValueError(f'normalise must be one of {NORMALISATIONS}, got {normalise!r}')
    num = similarity.shape[0]
    if similarity.shape != (num, num):
        raise ValueError(f'similarity must be square, got {tuple(similarity.shape)}')
    eye = torch.eye(num, dtype=torch.bool, device=similarity.device)
    positives = eye if positives is None else (positives.to(similarity.device) | eye)
    negatives = ~positives
    if num == 0 or not bool(negatives.any()):
        return similarity.sum() * 0.0
    total = similarity.new_zeros(())
    for dim in (1, 0):  # captions of each image, then images of each caption
        scores = similarity.softmax(dim=dim) if normalise == 'softmax' else similarity
        diag = scores.diagonal()
        pos = diag[:, None] if dim == 1 else diag[None, :]
        hinge = (margin - pos + scores).clamp(min=0).masked_fill(~negatives, 0.0)
        total = total + hinge.max(dim=dim).values.sum()
    return total / num


@MODELS.register_module()
class ImageCaptionRankingLoss(BaseModule):
    """ReIR's L_rank (both stages call it with their own similarity).

    Args:
        margin: m (paper: 0.2).
        normalise: ``'softmax'`` (official code) or ``'none'``.
        loss_weight: λ3 (paper: 1).
    """

    def __init__(
        self, *, margin: float = 0.2, normalise: str = 'softmax', loss_weight: float = 1.0
    ) -> None:
        super().__init__()
        if normalise not in NORMALISATIONS:
            raise ValueError(f'normalise must be one of {NORMALISATIONS}, got {normalise!r}')
        self.margin = margin
        self.normalise = normalise
        self.loss_weight = loss_weight

    def forward(self, similarity: Tensor, positives: Optional[Tensor] = None) -> Tensor:
        return self.loss_weight * image_caption_ranking_loss(
            similarity, margin=self.margin, positives=positives, normalise=self.normalise
        )
