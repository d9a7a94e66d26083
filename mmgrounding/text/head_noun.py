"""The head noun of a noun phrase: the last noun before its first modifier clause."""

import re
from typing import Optional, Sequence

from .lexicon import INDEFINITE_PRONOUNS, RELATIVE_WORDS
from .pos import tag_words
from .tokenize import word_tokenize
from .wordnet import lemmatize_noun

_WORD_RE = re.compile(r'\w')


def _ends_head(word: str, tag: str) -> bool:
    """Whether ``word`` opens what follows the head: a preposition ("in", "to", "of"), a
    relative word ("that", "who"), a verb ("playing"), a conjunction or punctuation."""
    if tag in ('ADP', 'CONJ', 'VERB') or word in RELATIVE_WORDS:
        return True
    return tag == 'OTHER' and not _WORD_RE.search(word)


def head_noun_index(words: Sequence[str], tags: Sequence[str]) -> Optional[int]:
    """Position of the head noun in a tagged phrase.

    The head is the last noun before the first preposition, relative word, verb,
    conjunction or punctuation mark that follows a noun ("a red circle | to the left of a
    blue square"). Words before the first noun never end the search, so "in the box" has the
    head "box" and "a black and white dog" the head "dog". Indefinite pronouns count as
    nouns ("someone in red" -> "someone"). A phrase without a noun falls back to its last
    word that is not a determiner before such a boundary ("she" -> "she").

    Args:
        words: L tokens.
        tags: L tags from :func:`mmgrounding.text.tag_words`.

    Returns:
        An index into ``words``, or None when the phrase has no word to fall back to.
    """
    head = None
    for i, (word, tag) in enumerate(zip(words, tags)):
        if head is not None and _ends_head(word, tag):
            break
        if tag == 'NOUN' or word in INDEFINITE_PRONOUNS:
            head = i
    if head is not None:
        return head
    fallback = None
    for i, (word, tag) in enumerate(zip(words, tags)):
        if fallback is not None and _ends_head(word, tag):
            break
        if tag != 'DET' and _WORD_RE.search(word) and not _ends_head(word, tag):
            fallback = i
    return fallback


def head_noun(phrase: str) -> str:
    """The lemmatised head noun of a noun phrase.

    Examples: "a man in a red sweater" -> "man"; "the two small dogs" -> "dog";
    "spectators" -> "spectator"; "a red circle to the left of a blue square" -> "circle";
    "the left one" -> "one" (the word that stands for the noun; it matches no class).

    Args:
        phrase: a noun phrase or referring expression.

    Returns:
        The head noun in WordNet's dictionary form (see
        :func:`mmgrounding.text.wordnet.lemmatize_noun`), the fallback word of
        :func:`head_noun_index` as it is, or "" for a phrase without words.
    """
    words = word_tokenize(phrase)
    tags = tag_words(words)
    index = head_noun_index(words, tags)
    if index is None:
        return ''
    return lemmatize_noun(words[index]) if tags[index] == 'NOUN' else words[index]
