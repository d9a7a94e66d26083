"""InfoGround's L_img (Gupta et al., ECCV 2020, Eq. 8): which image does a word belong to?"""

from typing import Optional

import torch
from torch import Tensor, nn

from mmgrounding.registry import MODELS

from .contrastive import info_nce

REDUCTIONS = ('mean', 'caption_mean', 'sum', 'none')


def reduce_token_losses(loss: Tensor, token_mask: Tensor, reduction: str) -> Tensor:
    """Reduce (B, L) per-token losses, already zero at unselected tokens.

    ``'mean'`` divides the sum by the number of selected tokens of the batch (at least 1), so
    an empty selection gives 0, still attached to the graph; ``'caption_mean'`` averages each
    caption's selected tokens first and then the B captions (a caption without selected
    tokens counts as 0), as the official InfoGround code reduces L_img
    (``CapInfoNCE.forward``: ``log_softmax / num_non_mask``, ``.sum(2).diag().mean()``), so
    that a long caption weighs as much as a short one; ``'sum'`` sums; ``'none'`` returns
    (B, L).
    """
    if reduction == 'none':
        return loss
    if reduction == 'sum':
        return loss.sum()
    if reduction == 'caption_mean':
        per_caption = loss.sum(dim=1) / token_mask.sum(dim=1).clamp(min=1)  # (B,)
        return per_caption.mean() if per_caption.numel() else loss.sum()
    if reduction == 'mean':
        return loss.sum() / token_mask.sum().clamp(min=1)
    raise ValueError(f'reduction must be one of {REDUCTIONS}, got {reduction!r}')


def infoground_image_loss(
    phi: Tensor, token_mask: Tensor, *, positives: Optional[Tensor] = None, temperature: float = 1.0
) -> Tensor:
    """L_img per token: InfoNCE of φ with the caption's own image against the other images.

    For caption b and token j, the candidates are the B_r images of the batch and the loss
    is −log(exp φ(R_b, w_bj) / Σ_c exp φ(R_c, w_bj)) (with several positives, the mean of
    their log-probabilities, :func:`~.contrastive.info_nce`).

    Args:
        phi: (B, B_r, L) φ(R_c, w_bj) of every caption b with every image c
            (``WordRegionAttention(..., all_pairs=True)``).
        token_mask: (B, L) bool, True for the tokens that count (InfoGround: nouns and
            adjectives).
        positives: (B, B_r) bool, True where image c is caption b's image; the diagonal
            when None (then B_r must equal B). Several Trues when the batch holds the same
            image twice.
        temperature: φ is divided by it (the paper uses φ itself: 1).

    Returns:
        (B, L) losses, 0 at the tokens outside ``token_mask``.
    """
    num_captions, num_images, num_tokens = phi.shape
    if positives is None:
        if num_captions != num_images:
            raise ValueError(f'{num_captions} captions and {num_images} images: pass positives')
        positives = torch.eye(num_captions, dtype=torch.bool, device=phi.device)
    logits = phi.permute(0, 2, 1).reshape(-1, num_images) / temperature  # (B * L, B_r)
    rows = positives[:, None, :].expand(-1, num_tokens, -1).reshape(-1, num_images)  # (B*L, B_r)
    loss = info_nce(logits, rows).reshape(num_captions, num_tokens)  # (B, L)
    return torch.where(token_mask, loss, torch.zeros_like(loss))


class TokenLoss(nn.Module):
    """Hyperparameters, weight and reduction of a per-token InfoNCE loss (the wrappers' base).

    Args:
        temperature: divides the logits.
        loss_weight: multiplies the reduced loss.
        reduction: ``'mean'`` over the selected tokens of the batch, ``'caption_mean'`` (per
            caption, then over captions: the official L_img), ``'sum'`` or ``'none'``.
    """

    def __init__(
        self, *, temperature: float = 1.0, loss_weight: float = 1.0, reduction: str = 'mean'
    ) -> None:
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f'reduction must be one of {REDUCTIONS}, got {reduction!r}')
        self.temperature = temperature
        self.loss_weight = loss_weight
        self.reduction = reduction


@MODELS.register_module()
class InfoGroundImageLoss(TokenLoss):
    """Thin wrapper of :func:`infoground_image_loss`.

    Args: as :class:`TokenLoss`; ``temperature`` as in :func:`infoground_image_loss`.
    """

    def forward(
        self, phi: Tensor, token_mask: Tensor, positives: Optional[Tensor] = None
    ) -> Tensor:
        """phi (B, B_r, L), token_mask (B, L), positives (B, B_r) -> the reduced loss."""
        loss = infoground_image_loss(
            phi, token_mask, positives=positives, temperature=self.temperature
        )
        return self.loss_weight * reduce_token_losses(loss, token_mask, self.reduction)
