"""InfoGround's L_lang (Gupta et al., ECCV 2020, Eq. 9): which word belongs in the caption?"""
from typing import Optional

import torch
from torch import Tensor

from mmgrounding.registry import MODELS

from .contrastive import info_nce
from .infoground_image_loss import TokenLoss, reduce_token_losses


def infoground_language_loss(phi_true: Tensor,
                             phi_negatives: Tensor,
                             token_mask: Tensor,
                             *,
                             negative_mask: Optional[Tensor] = None,
                             temperature: float = 1.0) -> Tensor:
    """L_lang per token: InfoNCE of the true word's φ against its substitutes' φ.

    For caption b and token j with negatives k = 1..K (the contextual features of the
    substitute words in the captions where they replace word j, attended over the same
    image R_b), the loss is −log(exp φ(R_b, w_bj) / (exp φ(R_b, w_bj) + Σ_k exp φ(R_b, w'_bjk))).

    Args:
        phi_true: (B, L) φ of each token with its own image.
        phi_negatives: (B, L, K) φ of the K substitutes of each token with the same image.
        token_mask: (B, L) bool, True for the tokens that count (InfoGround: the nouns that
            have negatives).
        negative_mask: (B, L, K) bool, True for real negatives (a token may have fewer
            than K); all real when None. A token without any real negative has loss 0.
        temperature: φ is divided by it (the paper: 1).

    Returns:
        (B, L) losses, 0 at the tokens outside ``token_mask``.
    """
    logits = torch.cat([phi_true[..., None], phi_negatives], dim=-1) / temperature  # (B, L, 1+K)
    if negative_mask is not None:
        # The lowest finite value, not -inf, so that 0 · log_softmax stays 0 in the loss.
        keep = torch.cat([negative_mask.new_ones(negative_mask.shape[:-1] + (1,)),
                          negative_mask], dim=-1)
        logits = logits.masked_fill(~keep, torch.finfo(logits.dtype).min)
    positives = torch.zeros_like(logits, dtype=torch.bool)
    positives[..., 0] = True
    num_candidates = logits.shape[-1]
    loss = info_nce(logits.reshape(-1, num_candidates),
                    positives.reshape(-1, num_candidates)).reshape(phi_true.shape)  # (B, L)
    return torch.where(token_mask, loss, torch.zeros_like(loss))


@MODELS.register_module()
class InfoGroundLanguageLoss(TokenLoss):
    """Thin wrapper of :func:`infoground_language_loss`.

    Args: as :class:`TokenLoss`; ``temperature`` as in :func:`infoground_language_loss`.
    """

    def forward(self,
                phi_true: Tensor,
                phi_negatives: Tensor,
                token_mask: Tensor,
                negative_mask: Optional[Tensor] = None) -> Tensor:
        """phi_true (B, L), phi_negatives (B, L, K), masks (B, L), (B, L, K) -> reduced loss."""
        loss = infoground_language_loss(phi_true, phi_negatives, token_mask,
                                        negative_mask=negative_mask,
                                        temperature=self.temperature)
        return self.loss_weight * reduce_token_losses(loss, token_mask, self.reduction)
