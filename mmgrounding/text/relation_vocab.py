"""ReIR's relation classes C_r: the frequent relation phrases of a training split."""

import os
import os.path as osp
from collections import Counter
from typing import Iterable, List, Sequence, Tuple

from .relations import relation_phrases


def caption_relations(caption: str, spans: Sequence[Tuple[int, int]]) -> List[Tuple[int, int, str]]:
    """:func:`relation_phrases` of a caption, none when a span is unknown (``(-1, -1)``)."""
    if any(start < 0 for start, _ in spans):
        return []
    return relation_phrases(caption, [tuple(s) for s in spans])


def count_relations(captions: Iterable[Tuple[str, Sequence[Tuple[int, int]]]]) -> Counter:
    """How often each relation phrase links two consecutive entities over ``(caption, spans)``."""
    counts: Counter = Counter()
    for caption, spans in captions:
        counts.update(text for _, _, text in caption_relations(caption, spans))
    return counts


def relation_classes(counts: Counter, *, min_count: int = 100) -> List[Tuple[str, int]]:
    """The relations seen more than ``min_count`` times (the paper: frequency > 100), by
    decreasing count, then alphabetically."""
    kept = [(text, n) for text, n in counts.items() if n > min_count]
    return sorted(kept, key=lambda item: (-item[1], item[0]))


def write_relation_vocab(classes: Sequence[Tuple[str, int]], path: str) -> None:
    """One ``relation<TAB>count`` a line, atomically; class c is line c (1-based; 0 = other)."""
    from mmgrounding.utils.atomic import atomic_open  # lazily: mmgrounding.text needs no torch

    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with atomic_open(path, 'w') as f:
        f.writelines(f'{text}\t{count}\n' for text, count in classes)


def read_relation_vocab(path: str) -> List[str]:
    """The relation texts of :func:`write_relation_vocab`, in class order (class 1 first)."""
    texts = []
    with open(path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            text, sep, count = line.rstrip('\n').rpartition('\t')
            if not sep or not text or not count.strip().isdigit():
                raise ValueError(f'{path}:{line_no}: expected "relation<TAB>count", got {line!r}')
            texts.append(text)
    if len(set(texts)) != len(texts):
        raise ValueError(f'{path}: a relation is listed twice')
    return texts
