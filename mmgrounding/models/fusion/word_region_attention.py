"""InfoGround's word -> region query-key-value attention (Gupta et al., ECCV 2020, Sec. 3).

Regions R = {r_i} (detector features) and contextual words W = {w_j} (frozen BERT) go
through four MLPs: keys k_r and values v_r for regions, queries q_w and values v_w for
words. A word attends over the regions of an image,

    a(r_i, w_j) = softmax_i(q_w(w_j)ᵀ k_r(r_i) / √d),    v_att(w_j) = Σ_i a(r_i, w_j) v_r(r_i),

and its compatibility with the image is φ(R, w_j) = v_w(w_j)ᵀ v_att(w_j). L_img compares φ
of a word with every image of the batch; L_lang compares φ of a word with φ of substitute
words in the same image; at test time a phrase scores a region by the largest attention of
its tokens (:func:`phrase_region_scores`).
"""

import math
from typing import Optional, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmgrounding.registry import MODELS


def _mlp(in_dim: int, out_dim: int, num_hidden: int = 1) -> nn.Sequential:
    """``num_hidden`` hidden layers of the input size (Linear -> BatchNorm -> ReLU), then a
    Linear to ``out_dim``; 0 is a single Linear.

    The official ``KLayer``/``FLayer`` with ``layers`` = 1, 2, 3 are ``num_hidden`` = 0, 1, 2
    (the key/value depths of the paper's Fig. 4; 2, one hidden layer, is its default).
    """
    if num_hidden < 0:
        raise ValueError(f'num_hidden must be >= 0, got {num_hidden}')
    layers = []
    for _ in range(num_hidden):
        layers += [nn.Linear(in_dim, in_dim), nn.BatchNorm1d(in_dim), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers, nn.Linear(in_dim, out_dim))


def _apply_masked(mlp: nn.Module, x: Tensor, mask: Optional[Tensor]) -> Tensor:
    """``mlp`` over the valid rows of ``x`` only, so that padding never enters BatchNorm.

    Args:
        x: (..., D) features.
        mask: (...) bool, True for valid rows; None when all are valid.

    Returns:
        (..., D') outputs; zero at the padded rows.
    """
    if mask is None:
        return mlp(x.reshape(-1, x.shape[-1])).reshape(*x.shape[:-1], -1)
    return scatter_rows(mlp(x[mask]), mask)


def scatter_rows(rows: Tensor, mask: Tensor) -> Tensor:
    """Put the (n, D) ``rows`` at the n True entries of ``mask`` (row-major order, as
    ``x[mask]`` reads them): shape mask.shape + (D,), zero elsewhere."""
    out = rows.new_zeros(*mask.shape, rows.shape[-1])
    out[mask] = rows
    return out


def masked_softmax(scores: Tensor, mask: Tensor, dim: int = -1) -> Tensor:
    """Softmax over ``dim`` restricted to ``mask``; all-masked slices give all zeros.

    Masked entries are filled with the dtype's lowest finite value (not -inf), so a slice
    without any valid entry stays finite; the product with ``mask`` then zeroes it.
    """
    scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    return scores.softmax(dim=dim) * mask.to(scores.dtype)


@MODELS.register_module()
class WordRegionAttention(BaseModule):
    """Word -> region attention and the word-image compatibility φ of InfoGround.

    Args:
        region_dim: size of a region feature (2048, the paper's bottom-up features; 256
            for the SynthGround detector cache).
        word_dim: size of a contextual word feature (768, bert-base).
        embed_dim: d, the output size of the four MLPs (384 in the paper).
        num_hidden: hidden layers of each MLP: 1 (the paper and the official default,
            ``layers=2``), 0 (linear keys, queries and values) or 2 (Fig. 4's depths).
        init_cfg: mmengine init config.

    Shapes: B images (and their captions), K regions per image, L tokens per caption, d the
    embedding size. Region and word masks are bool, True for real (not padded) entries.
    """

    def __init__(
        self,
        *,
        region_dim: int = 2048,
        word_dim: int = 768,
        embed_dim: int = 384,
        num_hidden: int = 1,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.embed_dim = embed_dim
        self.num_hidden = num_hidden
        self.region_key = _mlp(region_dim, embed_dim, num_hidden)  # k_r
        self.region_value = _mlp(region_dim, embed_dim, num_hidden)  # v_r
        self.word_query = _mlp(word_dim, embed_dim, num_hidden)  # q_w
        self.word_value = _mlp(word_dim, embed_dim, num_hidden)  # v_w

    def project_regions(
        self, regions: Tensor, region_mask: Optional[Tensor] = None
    ) -> Tuple[Tensor, Tensor]:
        """(B, K, D_r) regions -> keys k_r, values v_r, each (B, K, d); zero at padding."""
        return (
            _apply_masked(self.region_key, regions, region_mask),
            _apply_masked(self.region_value, regions, region_mask),
        )

    def project_words(
        self, words: Tensor, word_mask: Optional[Tensor] = None
    ) -> Tuple[Tensor, Tensor]:
        """(B, L, D_w) words -> queries q_w, values v_w, each (B, L, d); zero at padding."""
        return (
            _apply_masked(self.word_query, words, word_mask),
            _apply_masked(self.word_value, words, word_mask),
        )

    def compatibility(
        self,
        queries: Tensor,
        word_values: Tensor,
        keys: Tensor,
        region_values: Tensor,
        *,
        region_mask: Optional[Tensor] = None,
        all_pairs: bool = False,
    ) -> Tuple[Tensor, Tensor]:
        """φ and the attention from projected words and regions.

        Args:
            queries: (B_w, L, d) q_w of the words.
            word_values: (B_w, L, d) v_w of the words.
            keys: (B_r, K, d) k_r of the regions.
            region_values: (B_r, K, d) v_r of the regions.
            region_mask: (B_r, K) bool; None when every region is real.
            all_pairs: False: the words of row b attend to the regions of image b
                (B_w == B_r). True: every caption with every image.

        Returns:
            ``(phi, attention)``. Paired: phi (B, L), attention (B, L, K). All pairs:
            phi (B_w, B_r, L) with phi[b, c, j] = φ(R_c, w_bj), attention (B_w, B_r, L, K).
            An image without any real region gives zero attention and φ = 0.
        """
        scale = 1.0 / math.sqrt(self.embed_dim)
        if region_mask is None:
            region_mask = keys.new_ones(keys.shape[:2], dtype=torch.bool)
        if all_pairs:
            scores = torch.einsum('bld,ckd->bclk', queries, keys) * scale  # (B_w, B_r, L, K)
            attention = masked_softmax(scores, region_mask[None, :, None, :])
            # φ = v_wᵀ Σ_i a_i v_r(r_i) = Σ_i a_i (v_wᵀ v_r(r_i)): never builds (B_w, B_r, L, d)
            values = torch.einsum('bld,ckd->bclk', word_values, region_values)
            return (attention * values).sum(dim=-1), attention  # (B_w, B_r, L)
        if queries.shape[0] != keys.shape[0]:
            raise ValueError(
                f'paired attention needs as many captions as images, got '
                f'{queries.shape[0]} and {keys.shape[0]}'
            )
        scores = torch.einsum('bld,bkd->blk', queries, keys) * scale  # (B, L, K)
        attention = masked_softmax(scores, region_mask[:, None, :])
        attended = torch.einsum('blk,bkd->bld', attention, region_values)  # (B, L, d)
        return (word_values * attended).sum(dim=-1), attention  # (B, L)

    def forward(
        self,
        regions: Tensor,
        words: Tensor,
        *,
        region_mask: Optional[Tensor] = None,
        word_mask: Optional[Tensor] = None,
        all_pairs: bool = False,
    ) -> Tuple[Tensor, Tensor]:
        """Project and attend: see :meth:`compatibility` for the outputs.

        Args:
            regions: (B_r, K, D_r) region features.
            words: (B_w, L, D_w) contextual word features.
            region_mask: (B_r, K) bool.
            word_mask: (B_w, L) bool; padded tokens are kept out of BatchNorm and get φ = 0.
            all_pairs: see :meth:`compatibility`.
        """
        keys, region_values = self.project_regions(regions, region_mask)
        queries, word_values = self.project_words(words, word_mask)
        return self.compatibility(
            queries, word_values, keys, region_values, region_mask=region_mask, all_pairs=all_pairs
        )


def phrase_region_scores(attention: Tensor, phrase_token_mask: Tensor) -> Tensor:
    """InfoGround's test-time score of a region for a phrase: the largest attention any token
    of the phrase gives it.

    Args:
        attention: (L, K) attention of a caption's tokens over its image's regions.
        phrase_token_mask: (P, L) bool, the tokens of each phrase.

    Returns:
        (P, K) scores; a phrase without tokens scores every region 0.
    """
    masked = attention[None].masked_fill(~phrase_token_mask[:, :, None], 0.0)  # (P, L, K)
    return masked.max(dim=1).values
