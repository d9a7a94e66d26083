"""Word tokens of captions for InfoGround: character spans, first WordPieces, and the
padded batch of word features (cached or computed) that the grounder's losses read."""

from typing import Any, Dict, Iterator, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from mmgrounding.text import word_tokenize_with_spans

Span = Tuple[int, int]
# a caption's substitutes: {word index: [words]} or [(word index, [words])]
Negatives = Union[Mapping[int, Sequence[str]], Sequence[Tuple[int, Sequence[str]]]]


def overlapping_tokens(offsets: Tensor, spans: Sequence[Span]) -> Tensor:
    """(S, L) bool: which tokens overlap each character span.

    Args:
        offsets: (L, 2) character offsets of the tokens (end exclusive); special and padding
            tokens have (0, 0) and never overlap anything.
        spans: S ``(start, end)`` character spans, end exclusive; an empty or negative span
            ((-1, -1): a phrase without a span) overlaps no token.
    """
    if not spans:
        return torch.zeros(0, offsets.shape[0], dtype=torch.bool, device=offsets.device)
    spans_t = torch.as_tensor(spans, dtype=offsets.dtype, device=offsets.device)  # (S, 2)
    start, end = offsets[None, :, 0], offsets[None, :, 1]  # (1, L)
    real = end > start
    return real & (start < spans_t[:, 1:]) & (end > spans_t[:, :1])  # (S, L)


def first_tokens(offsets: Tensor, spans: Sequence[Span]) -> Tensor:
    """(S,) the first token overlapping each character span; -1 where none does.

    Args:
        offsets: (L, 2) character offsets of one caption's tokens.
        spans: S ``(start, end)`` spans in that caption, end exclusive.
    """
    hits = overlapping_tokens(offsets, spans)  # (S, L)
    first = hits.int().argmax(dim=1)
    return torch.where(hits.any(dim=1), first, torch.full_like(first, -1))


def first_tokens_per_row(offsets: Tensor, spans: Sequence[Span]) -> Tensor:
    """(N,) the first token of row n overlapping span n (0, [CLS], where none does).

    Args:
        offsets: (N, L, 2) character offsets of the tokens of N captions.
        spans: N ``(start, end)`` spans, one in each caption.
    """
    spans_t = torch.as_tensor(spans, dtype=offsets.dtype, device=offsets.device)  # (N, 2)
    start, end = offsets[..., 0], offsets[..., 1]  # (N, L)
    hits = (end > start) & (start < spans_t[:, 1:]) & (end > spans_t[:, :1])  # (N, L)
    return hits.int().argmax(dim=1)


def word_spans(caption: str, indices: Sequence[int]) -> List[Span]:
    """The character spans of the words ``indices`` of ``word_tokenize(caption)``.

    Raises:
        ValueError: an index is not a word of the caption (the message names the caption).
    """
    _, spans = word_tokenize_with_spans(caption)
    for index in indices:
        if not 0 <= int(index) < len(spans):
            raise ValueError(
                f'negatives of word {index} but the caption {caption!r} has {len(spans)} words'
            )
    return [spans[int(index)] for index in indices]


class WordBatch(NamedTuple):
    """The words of a batch of B captions (L tokens at most, M words with substitutes).

    Attributes:
        words: (B, L, D) frozen contextual features, zero at padding.
        word_mask: (B, L) bool, the real tokens ([CLS] and [SEP] included).
        offsets: (B, L, 2) character offsets ((0, 0) for [CLS], [SEP] and padding).
        negatives: None when no caption has substitutes, else ``feats`` (M, K, D) of each
            (caption, word) pair's substitutes, ``mask`` (M, K), ``sample`` (M,) and
            ``token`` (M,): the caption and the true word's first WordPiece.
    """

    words: Tensor
    word_mask: Tensor
    offsets: Tensor
    negatives: Optional[Dict[str, Tensor]]


def collate_words(
    entries: Sequence[Mapping[str, Any]], captions: Sequence[str], device: torch.device
) -> WordBatch:
    """Pad per-caption word entries (:meth:`InfoGroundGrounder.caption_word_features`,
    or the same fields from the cache) into a :class:`WordBatch`.

    Args:
        entries: per caption ``token_feats`` (L_b, D), ``token_offsets`` (L_b, 2) and
            optionally ``negative_words`` (M_b,), ``negative_counts`` (M_b,),
            ``negative_feats`` (N_b, D).
        captions: the B captions (for the words' character spans).
        device: where the tensors go.
    """
    feats = [e['token_feats'].to(device).float() for e in entries]
    words = pad_sequence(feats, batch_first=True)  # (B, L, D)
    lengths = torch.tensor([len(f) for f in feats], device=device)
    word_mask = torch.arange(words.shape[1], device=device)[None] < lengths[:, None]  # (B, L)
    offsets = pad_sequence(
        [e['token_offsets'].to(device) for e in entries], batch_first=True
    )  # (B, L, 2), (0, 0) at padding
    groups: List[Tensor] = []  # per (caption, word): (K_m, D) substitute features
    owners: List[int] = []
    tokens: List[int] = []
    for b, (entry, caption) in enumerate(zip(entries, captions)):
        if len(entry.get('negative_words', ())) == 0:
            continue
        indices = [int(i) for i in entry['negative_words']]
        firsts = first_tokens(
            entry['token_offsets'].to(device), word_spans(caption, indices)
        ).tolist()
        if min(firsts) < 0:
            raise ValueError(
                f'caption {caption!r}: words {indices} have substitutes, but '
                f'word {indices[firsts.index(-1)]} has no token'
            )
        counts = [int(c) for c in entry['negative_counts']]
        groups += entry['negative_feats'].to(device).float().split(counts)
        owners += [b] * len(indices)
        tokens += firsts
    if not groups:
        return WordBatch(words, word_mask, offsets, None)
    counts = torch.tensor([len(g) for g in groups], device=device)
    padded = pad_sequence(groups, batch_first=True)  # (M, K, D)
    negatives = dict(
        feats=padded,
        mask=torch.arange(padded.shape[1], device=device)[None] < counts[:, None],  # (M, K)
        sample=torch.tensor(owners, device=device),
        token=torch.tensor(tokens, device=device),
    )
    return WordBatch(words, word_mask, offsets, negatives)


def one_word_per_caption(
    negatives: Dict[str, Tensor], generator: Optional[torch.Generator] = None
) -> Dict[str, Tensor]:
    """Keep one random word with substitutes per caption (InfoGround's L_lang sampler).

    The paper (Sec. 2.4) and the official data loader (``random.choice`` over a caption's
    nouns with negatives) compute L_lang on one noun of each caption per step.

    Args:
        negatives: the ``negatives`` of a :class:`WordBatch`: ``feats`` (M, K, D), ``mask``
            (M, K), ``sample`` (M,), ``token`` (M,).
        generator: the source of randomness; None uses torch's global generator (seeded by
            the runner's ``randomness``).

    Returns:
        The same fields for the kept rows, at most one per caption, in caption order.
    """
    owners = negatives['sample']
    keep = []
    for owner in torch.unique(owners).tolist():  # sorted
        rows = torch.nonzero(owners == owner).flatten()
        pick = torch.randint(len(rows), (1,), generator=generator).item()
        keep.append(rows[pick])
    index = torch.stack(keep)
    return {key: value[index] for key, value in negatives.items()}


def chunks(items: List[Any], size: Optional[int]) -> Iterator[List[Any]]:
    """``items`` in consecutive lists of ``size`` (one list when None)."""
    size = size or max(len(items), 1)
    for first in range(0, len(items), size):
        yield items[first : first + size]
