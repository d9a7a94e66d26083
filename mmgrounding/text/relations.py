"""Relation phrases between consecutive entity phrases of a caption."""

from typing import List, Sequence, Tuple

from .lexicon import CONJUNCTIONS, DETERMINERS, POSSESSIVES, RELATIVE_WORDS
from .tokenize import word_tokenize

# Words that only join or open phrases: stripped from both ends of the words between two
# entities ("a man , and a woman" relates nothing; "a dog , which is on a sofa" -> "is on").
_LEADING_FILLERS = CONJUNCTIONS | RELATIVE_WORDS
# A determiner or possessive at the end belongs to the next phrase when its span leaves it
# out ("a red circle to the left of a" + "blue square").
_TRAILING_FILLERS = CONJUNCTIONS | DETERMINERS | POSSESSIVES - {"'s"}


def _is_word(token: str) -> bool:
    return any(char.isalnum() for char in token)


def relation_phrases(caption: str, spans: Sequence[Tuple[int, int]]) -> List[Tuple[int, int, str]]:
    """The words relating each entity phrase to the next one.

    For every consecutive pair of phrases (i, i + 1) the text between them is tokenized;
    punctuation and conjunctions are stripped from both ends, relative words ("which",
    "who", "that") from the start, and determiners and possessives from the end. What is
    left, if anything, is the relation: "a red circle to the left of a blue square" gives
    "to the left of"; "a man and a woman" gives nothing.

    Args:
        caption: the caption or referring expression.
        spans: P ``(start, end)`` character offsets of its entity phrases (end exclusive),
            in order and not overlapping.

    Returns:
        ``(i, i + 1, text)`` for each pair with a relation, ``text`` being lower-case words
        joined by single spaces, in the order of the pairs.

    Raises:
        ValueError: a span lies outside ``caption``, is reversed, or starts before the end
            of the previous one.
    """
    for i, (start, end) in enumerate(spans):
        if not 0 <= start <= end <= len(caption):
            raise ValueError(
                f'span {i} {(start, end)} is not inside the caption of '
                f'{len(caption)} characters: {caption!r}'
            )
        if i > 0 and start < spans[i - 1][1]:
            raise ValueError(
                f'span {i} {(start, end)} starts before span {i - 1} '
                f'{tuple(spans[i - 1])} ends: spans must be in order and disjoint'
            )
    relations = []
    for i in range(len(spans) - 1):
        words = word_tokenize(caption[spans[i][1] : spans[i + 1][0]])
        while words and (not _is_word(words[0]) or words[0] in _LEADING_FILLERS):
            words.pop(0)
        while words and (not _is_word(words[-1]) or words[-1] in _TRAILING_FILLERS):
            words.pop()
        if words:
            relations.append((i, i + 1, ' '.join(words)))
    return relations
