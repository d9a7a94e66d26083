"""Word vocabularies for word-level text encoders (CKD's phrase LSTM)."""
from collections import Counter
from typing import Iterable, List, Sequence

from .tokenize import word_tokenize

PAD = '[PAD]'
UNK = '[UNK]'


def build_word_vocab(texts: Iterable[str], *, min_count: int = 1) -> List[str]:
    """Words of ``texts`` (``word_tokenize``) seen at least ``min_count`` times.

    Returns:
        ``[PAD, UNK, words...]``, words by decreasing count, then alphabetically, so the
        same texts always give the same ids.
    """
    counts = Counter(word for text in texts for word in word_tokenize(text))
    words = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return [PAD, UNK, *words]


def read_word_vocab(path: str) -> List[str]:
    """One word a line (:func:`write_word_vocab`); the first two must be ``[PAD]``, ``[UNK]``."""
    with open(path, encoding='utf-8') as f:
        words = [line.rstrip('\n') for line in f if line.strip()]
    if words[:2] != [PAD, UNK]:
        raise ValueError(f'{path}: a word vocabulary starts with {PAD} and {UNK}, '
                         f'got {words[:2]}')
    return words


def write_word_vocab(words: Sequence[str], path: str) -> None:
    with open(path, 'w', encoding='utf-8') as f:
        f.writelines(f'{w}\n' for w in words)
