"""CKD's image–sentence NCE L_IS (Eq. 5) over the shared InfoNCE core."""
from mmengine.model import BaseModule
from torch import Tensor

from mmgrounding.registry import MODELS

from .contrastive import info_nce


def image_sentence_nce_loss(scores: Tensor, positives: Tensor, *, temperature: float) -> Tensor:
    """−log exp(S(X, Y)/τ) / Σ_{X'} exp(S(X', Y)/τ) for each sentence Y (Eq. 5).

    Args:
        scores: (S_n, B) image–sentence scores S, rows sentences, columns the images of
            the batch.
        positives: (S_n, B) bool, True where image b is the sentence's own image (several
            columns when the batch holds the image more than once).
        temperature: τ.

    Returns:
        (S_n,) unreduced losses.
    """
    return info_nce(scores / temperature, positives)


@MODELS.register_module()
class ImageSentenceNCELoss(BaseModule):
    """L_IS: NCE of the sentence's image against the other images of the batch.

    Args:
        temperature: τ (paper: 0.5).
        loss_weight: factor.
    """

    def __init__(self, *, temperature: float = 0.5, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.temperature = temperature
        self.loss_weight = loss_weight

    def forward(self, scores: Tensor, positives: Tensor) -> Tensor:
        losses = image_sentence_nce_loss(scores, positives, temperature=self.temperature)
        return self.loss_weight * losses.mean()
