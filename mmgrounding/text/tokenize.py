"""A deterministic regex word tokenizer for captions and referring expressions."""

import re
from typing import List, Tuple

# One alternative per token kind, tried left to right at each position:
#   "do" of "don't" | "n't" | clitics "'s 're 've 'll 'd 'm" | numbers with separators "1,000"
#   "3.5" | words, hyphenated words kept whole ("t-shirt", "blue-green") | any other single
#   non-space character (punctuation, "_" and symbols each become a token of their own).
_TOKEN_RE = re.compile(
    r"[^\W_]+(?=n't(?![^\W_]))"
    r"|n't(?![^\W_])"
    r"|'(?:s|re|ve|ll|d|m)(?![^\W_])"
    r'|\d+(?:[.,]\d+)+'
    r'|[^\W_]+(?:-[^\W_]+)*'
    r'|\S'
)

# Typographic apostrophes become ASCII ones so that "man’s" splits like "man's". One character
# is replaced by one, so character offsets stay those of the input.
_APOSTROPHES = str.maketrans({'\u2019': "'", '\u2018': "'", '\u02bc': "'"})


def word_tokenize_with_spans(text: str) -> Tuple[List[str], List[Tuple[int, int]]]:
    """Split ``text`` into lower-case tokens and give where each came from.

    Args:
        text: any string.

    Returns:
        ``(words, spans)``: the tokens of :func:`word_tokenize` and, for each, its
        ``(start, end)`` character offsets in ``text`` (end exclusive).
    """
    normalised = text.translate(_APOSTROPHES).lower()
    # str.lower() keeps the length of ASCII and nearly all other text; for the few characters
    # whose lower case is longer ("İ") the offsets come from the unlowered text instead.
    source = normalised if len(normalised) == len(text) else text.translate(_APOSTROPHES)
    words, spans = [], []
    for match in _TOKEN_RE.finditer(source):
        words.append(match.group().lower())
        spans.append(match.span())
    return words, spans


def word_tokenize(text: str) -> List[str]:
    """Split ``text`` into lower-case words and punctuation marks.

    Punctuation is split off ("sweater." -> "sweater", "."), hyphenated words stay whole
    ("t-shirt"), numbers keep their separators ("1,000", "3.5") and English clitics become
    tokens of their own ("man's" -> "man", "'s"; "don't" -> "do", "n't"). The result depends
    only on ``text``: no model or downloaded data is involved.

    Args:
        text: any string.

    Returns:
        The tokens, in order.
    """
    return word_tokenize_with_spans(text)[0]
