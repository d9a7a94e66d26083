"""InfoGround's context-preserving negative captions (Gupta et al., ECCV 2020, Sec. 3.3).

A noun s of a caption is replaced by words s' that fit the context c but do not mean s:

1. mask s and ask a masked language model for p(s' | c); keep the ``num_plausible`` (30)
   most likely fillers among the candidate vocabulary (the nouns of the training split);
2. rerank them by p(s' | c) / q(s' | s, c), where q is the same model's prediction at the
   position of s in the *unmasked* caption: a synonym or hypernym of s ("puppy" for "dog")
   is likely in both and drops, a plausible non-synonym ("cat") is likely only in p and rises;
3. drop s itself and keep the ``num_negatives`` (25) best.

Ablation modes (the paper's Table 2): ``'plausible'`` keeps the top of p without
reranking; ``'random_captions'`` draws the Table 2 "random" row's nouns as the paper and the
official sampler do: each negative is a noun of a random caption of another image
(:func:`random_caption_nouns`), then placed in the positive caption's context (the official
``cache_neg_features_random.py`` reads each noun in its own caption instead: a difference
kept, docs/methods/infoground.md); ``'random'`` (ours) draws the candidate vocabulary
uniformly instead.

The selection functions are pure functions of tensors; :func:`masked_lm_log_probs` runs any
Hugging Face masked LM (``AutoModelForMaskedLM``) over a caption, and
:func:`caption_negatives` puts the two together. Unlike the rest of :mod:`mmgrounding.text`,
this module imports torch, so the package ``__init__`` does not import it.
"""

import json
import zlib
from collections import Counter
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .pos import tag_words
from .tokenize import word_tokenize

MODES = ('reranked', 'plausible', 'random', 'random_captions')
RANDOM_MODES = ('random', 'random_captions')


def noun_vocabulary(captions: Iterable[str], *, min_noun_fraction: float = 0.5) -> List[str]:
    """The words mostly used as nouns in ``captions``: the candidate substitutes.

    A word counts when :func:`~mmgrounding.text.tag_words` tags at least
    ``min_noun_fraction`` of its occurrences NOUN (0 keeps every word tagged NOUN once), so
    that a colour once read as a noun ("the red") does not become a substitute for a noun.

    Returns:
        The words by decreasing NOUN count, then alphabetically.
    """
    nouns: Counter = Counter()
    total: Counter = Counter()
    for caption in captions:
        words = word_tokenize(caption)
        total.update(words)
        nouns.update(w for w, tag in zip(words, tag_words(words)) if tag == 'NOUN')
    kept = [w for w in nouns if nouns[w] >= min_noun_fraction * total[w]]
    return sorted(kept, key=lambda w: (-nouns[w], w))


def noun_positions(words: Sequence[str]) -> List[int]:
    """Indices of the words tagged NOUN: the words InfoGround replaces."""
    return [i for i, tag in enumerate(tag_words(words)) if tag == 'NOUN']


def candidate_token_ids(words: Iterable[str], vocab: Mapping[str, int]) -> Tensor:
    """(C,) sorted ids of the ``words`` that are single tokens of the LM's ``vocab``.

    A word the tokenizer splits into several pieces cannot fill a single [MASK] and is left
    out (the caller can count them: ``len(words) - C``).
    """
    ids = sorted({vocab[w] for w in words if w in vocab})
    return torch.tensor(ids, dtype=torch.long)


def _allowed(num_words: int, candidate_ids: Tensor, original_ids: Tensor) -> Tensor:
    """(N, V) bool: the candidates, without each row's original word."""
    allowed = torch.zeros(original_ids.shape[0], num_words, dtype=torch.bool)
    allowed[:, candidate_ids] = True
    rows = torch.nonzero(original_ids >= 0).flatten()
    allowed[rows, original_ids[rows]] = False
    return allowed


def _finite(log_probs: Tensor) -> Tensor:
    """-inf (a probability that underflowed to 0) -> half the lowest finite value, so that
    differences of log-probabilities stay finite and ordered, and -inf can mark exclusion."""
    return torch.nan_to_num(log_probs, neginf=torch.finfo(log_probs.dtype).min / 2)


def _top(scores: Tensor, k: int) -> Tuple[Tensor, Tensor]:
    """The ``k`` highest finite entries of each row, ties broken by the lower index.

    Returns:
        ``(ids, valid)``, each (N, k): the column indices (-1 where a row has fewer than k
        finite entries) and which are real.
    """
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices[:, :k]  # (N, ≤k)
    valid = torch.gather(scores, 1, order).isfinite()
    ids = torch.where(valid, order, torch.full_like(order, -1))
    if ids.shape[1] < k:  # fewer columns than k
        pad = k - ids.shape[1]
        ids = torch.cat([ids, ids.new_full((ids.shape[0], pad), -1)], dim=1)
        valid = torch.cat([valid, valid.new_zeros(valid.shape[0], pad)], dim=1)
    return ids, valid


def context_preserving_negatives(
    log_p: Tensor,
    log_q: Tensor,
    candidate_ids: Tensor,
    original_ids: Tensor,
    *,
    num_plausible: int = 30,
    num_negatives: int = 25,
) -> Tensor:
    """InfoGround's negatives: top of p among the candidates, reranked by log p − log q.

    Args:
        log_p: (N, V) log p(s' | c), the LM's prediction at the masked word of N cases.
        log_q: (N, V) log q(s' | s, c), its prediction at the same position unmasked.
        candidate_ids: (C,) the token ids allowed as substitutes (the split's nouns).
        original_ids: (N,) the token id of each masked word, -1 when it is not a single token
            (it cannot be a candidate then).
        num_plausible: how many of the most likely candidates (by p, the original word
            included) are reranked.
        num_negatives: how many are kept after dropping the original word.

    Returns:
        (N, num_negatives) token ids, best first; -1 where fewer remain.
    """
    log_p, log_q = _finite(log_p), _finite(log_q)
    in_vocab = _allowed(log_p.shape[1], candidate_ids, torch.full_like(original_ids, -1))
    plausible, real = _top(log_p.masked_fill(~in_vocab, float('-inf')), num_plausible)
    safe = plausible.clamp(min=0)  # (N, num_plausible), -1 -> 0 for the gathers below
    real &= safe != original_ids[:, None]
    ratio = torch.gather(log_p, 1, safe) - torch.gather(log_q, 1, safe)  # log p − log q
    order, kept = _top(ratio.masked_fill(~real, float('-inf')), num_negatives)
    ids = torch.gather(plausible, 1, order.clamp(min=0))
    return torch.where(kept, ids, torch.full_like(ids, -1))


def plausible_negatives(
    log_p: Tensor, candidate_ids: Tensor, original_ids: Tensor, *, num_negatives: int = 25
) -> Tensor:
    """The ablation without reranking: the ``num_negatives`` most likely candidates by p.

    Args and returns as :func:`context_preserving_negatives`.
    """
    log_p = _finite(log_p)
    allowed = _allowed(log_p.shape[1], candidate_ids, original_ids)
    return _top(log_p.masked_fill(~allowed, float('-inf')), num_negatives)[0]


def random_negatives(
    candidate_ids: Tensor,
    original_ids: Tensor,
    *,
    num_negatives: int = 25,
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    """The ablation with random words: candidates drawn uniformly without replacement.

    Args:
        candidate_ids: (C,) allowed token ids.
        original_ids: (N,) the masked words' ids (-1: not a single token), never drawn.
        generator: the source of randomness (seed it for determinism).

    Returns:
        (N, num_negatives) token ids; -1 where fewer than ``num_negatives`` candidates remain.
    """
    out = torch.full((original_ids.shape[0], num_negatives), -1, dtype=torch.long)
    for row, original in enumerate(original_ids.tolist()):
        pool = candidate_ids[candidate_ids != original]
        drawn = pool[torch.randperm(pool.numel(), generator=generator)[:num_negatives]]
        out[row, : drawn.numel()] = drawn
    return out


def random_caption_nouns(
    caption_nouns: Sequence[Sequence[str]],
    caption_images: Sequence[object],
    image_id: object,
    *,
    exclude: Iterable[str] = (),
    num_negatives: int = 25,
    generator: Optional[torch.Generator] = None,
    max_rounds: int = 20,
) -> List[str]:
    """The Table 2 "random" negatives: one noun of each of random captions of other images.

    As the official ``RandomCaptionSampler`` (``exp/gen_noun_negatives/
    sample_neg_bert_random.py``): captions are drawn at random from the pool, those of the
    same image are passed over, and a random noun of each drawn caption is one negative.
    Drawn in rounds of ``2 * num_negatives`` captions (with replacement across rounds) until
    ``num_negatives`` are found or ``max_rounds`` rounds are spent; captions without nouns
    and nouns in ``exclude`` (the positive word itself) are passed over. A noun can repeat.

    Args:
        caption_nouns: per pool caption, its nouns (``noun_positions`` of its words).
        caption_images: per pool caption, its image id.
        image_id: the positive caption's image (its captions are never drawn).
        exclude: words never returned.
        num_negatives: how many to return at most.
        generator: the source of randomness (:func:`seeded_generator`).
        max_rounds: gives up after this many rounds (a pool of one image's captions).

    Returns:
        Up to ``num_negatives`` nouns in the order drawn.
    """
    if len(caption_nouns) != len(caption_images):
        raise ValueError(f'{len(caption_nouns)} noun lists for {len(caption_images)} images')
    exclude = set(exclude)
    image = str(image_id)
    out: List[str] = []
    for _ in range(max_rounds):
        if len(out) >= num_negatives or not caption_nouns:
            break
        drawn = torch.randint(len(caption_nouns), (2 * num_negatives,), generator=generator)
        for index in drawn.tolist():
            nouns = caption_nouns[index]
            if str(caption_images[index]) == image or not nouns:
                continue
            noun = nouns[int(torch.randint(len(nouns), (1,), generator=generator))]
            if noun in exclude:
                continue
            out.append(noun)
            if len(out) == num_negatives:
                break
    return out


@torch.no_grad()
def masked_lm_log_probs(
    model: torch.nn.Module, tokenizer, words: Sequence[str], positions: Sequence[int]
) -> Tuple[Tensor, Tensor, Tensor]:
    """p and q of a masked LM at the given words of one caption.

    The caption is given as words (``word_tokenize``) and tokenised with
    ``is_split_into_words``. For each position the word's pieces are replaced by one [MASK]
    (the substitutes are single tokens); q is read at the word's first piece in the unmasked
    caption. One batch per caption, so a caption's result never depends on other captions.

    Args:
        model: a Hugging Face masked LM (``AutoModelForMaskedLM``); put in eval mode here.
        tokenizer: its fast tokenizer (``word_ids`` is needed).
        words: the caption's N_w words.
        positions: N word indices to mask.

    Returns:
        ``(log_p, log_q, original_ids)``: (N, V), (N, V) log-probabilities and (N,) the token
        id of each word (-1 when it is split into several pieces).

    Raises:
        ValueError: a position is out of range or was cut off by the tokenizer's maximum length.
    """
    model.eval()
    encoding = tokenizer(list(words), is_split_into_words=True, truncation=True)
    ids = encoding['input_ids']
    word_ids = encoding.word_ids()
    sequences, first_pieces, original_ids = [ids], [], []
    for position in positions:
        pieces = [t for t, w in enumerate(word_ids) if w == position]
        if not pieces:
            raise ValueError(
                f'word {position} of {" ".join(words)!r} is not in the tokenised '
                f'caption (out of range or truncated)'
            )
        first_pieces.append(pieces[0])
        original_ids.append(ids[pieces[0]] if len(pieces) == 1 else -1)
        sequences.append(ids[: pieces[0]] + [tokenizer.mask_token_id] + ids[pieces[-1] + 1 :])
    length = max(len(s) for s in sequences)
    input_ids = torch.full((len(sequences), length), tokenizer.pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros_like(input_ids)
    for row, seq in enumerate(sequences):
        input_ids[row, : len(seq)] = torch.tensor(seq)
        attention_mask[row, : len(seq)] = 1
    device = next(model.parameters()).device
    logits = (
        model(input_ids=input_ids.to(device), attention_mask=attention_mask.to(device))
        .logits.float()
        .cpu()
    )  # (1+N, T, V)
    log_probs = logits.log_softmax(dim=-1)
    first = torch.tensor(first_pieces, dtype=torch.long)
    rows = torch.arange(1, len(sequences))
    log_p = log_probs[rows, first]  # the [MASK] sits where the word's first piece was: (N, V)
    log_q = log_probs[0, first]  # (N, V)
    return log_p, log_q, torch.tensor(original_ids, dtype=torch.long)


def seeded_generator(seed: int, key: str) -> torch.Generator:
    """A generator seeded from ``seed`` and ``key`` (a caption id), the same in every process."""
    return torch.Generator().manual_seed(zlib.crc32(f'{seed}/{key}'.encode()))


def caption_negatives(
    model: torch.nn.Module,
    tokenizer,
    words: Sequence[str],
    positions: Sequence[int],
    candidate_ids: Tensor,
    *,
    mode: str = 'reranked',
    num_plausible: int = 30,
    num_negatives: int = 25,
    generator: Optional[torch.Generator] = None,
) -> Dict[int, List[str]]:
    """Negative substitutes for the words at ``positions`` of one caption.

    Args:
        model, tokenizer, words, positions: see :func:`masked_lm_log_probs` (the LM is not
            run in ``'random'`` mode).
        candidate_ids: (C,) allowed substitute ids (:func:`candidate_token_ids`).
        mode: ``'reranked'`` (the paper's method), ``'plausible'`` or ``'random'``
            (``'random_captions'`` needs a caption pool: :func:`random_caption_nouns`).
        num_plausible, num_negatives: see :func:`context_preserving_negatives`.
        generator: randomness of ``'random'`` mode (:func:`seeded_generator`).

    Returns:
        ``{position: [substitute words, best first]}`` (at most ``num_negatives`` each).
    """
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    if mode == 'random_captions':
        raise ValueError(
            "mode 'random_captions' draws from a pool of captions: use "
            'random_caption_nouns (tools/generate_negatives.py does)'
        )
    if not positions:
        return {}
    if mode == 'random':
        ids = tokenizer.convert_tokens_to_ids([words[p] for p in positions])
        original_ids = torch.tensor(
            [-1 if i == tokenizer.unk_token_id else i for i in ids], dtype=torch.long
        )
        chosen = random_negatives(
            candidate_ids, original_ids, num_negatives=num_negatives, generator=generator
        )
    else:
        log_p, log_q, original_ids = masked_lm_log_probs(model, tokenizer, words, positions)
        if mode == 'plausible':
            chosen = plausible_negatives(
                log_p, candidate_ids, original_ids, num_negatives=num_negatives
            )
        else:
            chosen = context_preserving_negatives(
                log_p,
                log_q,
                candidate_ids,
                original_ids,
                num_plausible=num_plausible,
                num_negatives=num_negatives,
            )
    return {
        position: tokenizer.convert_ids_to_tokens([i for i in row if i >= 0])
        for position, row in zip(positions, chosen.tolist())
    }


NEGATIVES_FORMAT = 'mmgrounding/infoground-negatives/1'


def read_negatives(path: str) -> Dict[int, dict]:
    """The captions of a cache written by ``tools/generate_negatives.py``.

    Returns:
        ``{annotation id: {'image_id', 'words': [...], 'negatives': {word index: [words]}}}``;
        a negative caption is ``words`` with ``words[index]`` replaced by a substitute.

    Raises:
        ValueError: the file is not such a cache (the message names the file).
    """
    with open(path, encoding='utf-8') as f:
        cache = json.load(f)
    if not isinstance(cache, dict) or cache.get('format') != NEGATIVES_FORMAT:
        raise ValueError(f'{path}: not a negatives cache of format {NEGATIVES_FORMAT!r}')
    return {
        int(ann_id): dict(entry, negatives={int(k): v for k, v in entry['negatives'].items()})
        for ann_id, entry in cache['captions'].items()
    }
