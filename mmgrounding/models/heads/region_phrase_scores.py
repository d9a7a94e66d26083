"""CKD's scores: region–phrase s(x, y) = f(x)ᵀg(y) (Eq. 1), image–sentence S (Eq. 2)."""
import torch
from torch import Tensor


def region_phrase_scores(phrases: Tensor, regions: Tensor) -> Tensor:
    """s(x_bl, y_p) of every phrase against every region of every image.

    Args:
        phrases: (P, E) phrase embeddings g(y).
        regions: (B, K, E) region embeddings f(x).

    Returns:
        (P, B, K) scores.
    """
    return torch.einsum('pe,bke->pbk', phrases, regions)


def image_sentence_scores(scores: Tensor, phrase_to_sentence: Tensor, num_sentences: int, *,
                          region_mask: Tensor | None = None) -> Tensor:
    """S(X_b, Y_i) = Σ_{k ∈ Y_i} max_l s(x_bl, y_k) for every sentence i and image b.

    Args:
        scores: (P, B, K) region–phrase scores (:func:`region_phrase_scores`).
        phrase_to_sentence: (P,) int64, the sentence each phrase belongs to.
        num_sentences: number of sentences S_n (a sentence without phrases scores 0).
        region_mask: (B, K) bool, False for padded regions (they never win the max).

    Returns:
        (S_n, B) scores, rows sentences, columns images.
    """
    if region_mask is not None:
        scores = scores.masked_fill(~region_mask[None], float('-inf'))
    best = scores.max(dim=2).values  # (P, B)
    out = best.new_zeros((num_sentences, best.shape[1]))
    return out.index_add(0, phrase_to_sentence, best)  # (S_n, B)
