"""Coarse part-of-speech tags from WordNet and closed-class word lists, without a trained model.

Closed-class words (determiners, prepositions, pronouns, conjunctions, numbers, auxiliaries)
come from :mod:`mmgrounding.text.lexicon`. For every other word WordNet says which open
classes it can belong to (after ``morphy``: "dogs" is a noun, "playing" a noun or a verb) and
how often its lemma was seen in each in WordNet's sense-tagged corpora. A few positional
rules then choose among them, left to right:

* before a noun-capable word inside a noun phrase (after a determiner, number, adjective or
  possessive, after a preposition or a verb) a word WordNet knows as an adjective is ADJ
  ("two small dogs", "with long hair"); colour words always are there ("a red sweater");
* an -ing/-ed form after a form of "be" is a VERB ("is playing"), as is an inflected verb
  form after a noun or pronoun when the verb is the more frequent reading ("a man wearing",
  "the dog runs"); an uninflected one after a noun is part of a compound ("tennis ball");
* otherwise a noun reading wins inside a noun phrase, and elsewhere the most frequent one;
* afterwards "one" after a determiner or adjective is a NOUN ("the left one"), and the last
  open-class word of a noun phrase is a NOUN even when it was first read as an adjective
  ("the red" at the end of "the blue or the red").

The result depends only on the words and the WordNet 3.0 files.
"""

import functools
import re
from typing import Dict, List, Optional, Sequence

from .lexicon import (
    ADPOSITIONS,
    ADVERBS,
    AUXILIARIES,
    BE_FORMS,
    COLOURS,
    CONJUNCTIONS,
    DETERMINERS,
    NUMBER_WORDS,
    POSSESSIVES,
    PRONOMINAL_ONES,
    PRONOUNS,
)
from .wordnet import get_wordnet, lemmatize_noun

TAGS = ('NOUN', 'ADJ', 'VERB', 'DET', 'ADP', 'NUM', 'PRON', 'CONJ', 'ADV', 'OTHER')

_OPEN_CLASSES = (('NOUN', 'n'), ('VERB', 'v'), ('ADJ', 'a'), ('ADV', 'r'))
_NUMBER_RE = re.compile(r'\d+(?:[.,]\d+)*(?:st|nd|rd|th|s)?$')
_PUNCTUATION_RE = re.compile(r'[\W_]+$')
_PLURAL_PRONOUNS = frozenset({'they', 'we', 'you', 'i'})
_NOUN_PHRASE_OPENERS = ('DET', 'NUM', 'ADJ')


def _closed_tag(word: str) -> Optional[str]:
    """The tag of a closed-class word or punctuation; None for an open-class word."""
    if _PUNCTUATION_RE.match(word) or word == "'s":
        return 'OTHER'
    if _NUMBER_RE.match(word) or word in NUMBER_WORDS:
        return 'NUM'
    for tag, words in (
        ('DET', DETERMINERS),
        ('PRON', PRONOUNS),
        ('ADP', ADPOSITIONS),
        ('CONJ', CONJUNCTIONS),
        ('VERB', AUXILIARIES),
        ('ADV', ADVERBS),
    ):
        if word in words:
            return tag
    return None


@functools.lru_cache(maxsize=65536)
def open_class_counts(word: str) -> Dict[str, int]:
    """The open classes WordNet knows ``word`` in, with how often each reading occurs.

    Args:
        word: one lower-case word.

    Returns:
        ``{tag: count + 1}`` for each of 'NOUN', 'VERB', 'ADJ', 'ADV' whose WordNet lemma
        (after ``morphy``) exists; ``count`` is the lemma's total frequency in WordNet's
        sense-tagged corpora (``cntlist``). Empty when WordNet does not know the word. An
        unknown hyphenated word takes the counts of its last part and can also be an
        adjective ("long-haired", "two-story").
    """
    wordnet = get_wordnet()
    counts = {}
    for tag, pos in _OPEN_CLASSES:
        lemma_name = wordnet.morphy(word, pos)
        if lemma_name is not None:
            counts[tag] = 1 + sum(lemma.count() for lemma in wordnet.lemmas(lemma_name, pos=pos))
    if not counts and '-' in word.strip('-'):
        counts = dict(open_class_counts(word.rsplit('-', 1)[1]))
        counts.setdefault('ADJ', 1)
    return counts


def _is_nounish(word: Optional[str]) -> bool:
    """Whether ``word`` can head a noun phrase: an open-class word with a noun reading, other
    than an inflected verb form read more often as a verb ("wearing", "runs")."""
    if word is None:
        return False
    if word in PRONOMINAL_ONES:
        return True
    counts = open_class_counts(word)
    if _closed_tag(word) is not None or 'NOUN' not in counts:
        return False
    return not (counts.get('VERB', 0) > counts['NOUN'] and _is_inflected_verb(word))


def _is_inflected_verb(word: str) -> bool:
    """An inflected verb form: "plays", "wearing", "sat" (its verb lemma differs)."""
    lemma = get_wordnet().morphy(word, 'v')
    return lemma is not None and lemma != word


def _is_plural_subject(word: str, tag: str) -> bool:
    if tag == 'PRON':
        return word in _PLURAL_PRONOUNS
    return word == 'people' or lemmatize_noun(word) != word


def _most_frequent(counts: Dict[str, int]) -> str:
    # Ties go to the order of _OPEN_CLASSES: noun, verb, adjective, adverb.
    return max(_OPEN_CLASSES, key=lambda item: counts.get(item[0], 0))[0]


def _open_tag(words: List[str], tags: List[Optional[str]], i: int) -> str:
    """Tag the open-class word ``words[i]``, knowing the tags left of it."""
    word = words[i]
    prev_word = words[i - 1] if i > 0 else None
    prev_tag = tags[i - 1] if i > 0 else None
    next_word = words[i + 1] if i + 1 < len(words) else None
    next_nounish = _is_nounish(next_word)
    counts = open_class_counts(word)

    if not counts:  # not in WordNet: a name, a misspelling, a rare word
        if word.endswith('ly'):
            return 'ADV'
        if prev_word in BE_FORMS and word.endswith(('ing', 'ed')):
            return 'VERB'
        return 'NOUN'
    if word in COLOURS and 'ADJ' in counts and next_nounish:
        return 'ADJ'
    if len(counts) == 1:
        return next(iter(counts))

    if 'VERB' in counts:
        if prev_word in BE_FORMS and word.endswith(('ing', 'ed', 'en')):
            return 'VERB'  # "is playing", "are seated"
        if prev_tag == 'VERB' and prev_word in AUXILIARIES and prev_word not in BE_FORMS:
            return 'VERB'  # "can swim", "does look"
        if prev_word == 'to' and counts['VERB'] > counts.get('NOUN', 0):
            return 'VERB'  # "to play", but "to school"

    in_noun_phrase = (
        prev_tag in _NOUN_PHRASE_OPENERS
        or prev_word in POSSESSIVES
        or (prev_tag in ('ADP', 'VERB') and prev_word not in BE_FORMS)
        or prev_tag is None
    )
    if prev_tag in ('CONJ', 'OTHER') and i >= 2 and tags[i - 2] == 'ADJ':
        in_noun_phrase = True  # "black and white dog"
    if in_noun_phrase:
        if 'ADJ' in counts and next_nounish:
            return 'ADJ'
        if (
            'ADJ' in counts
            and next_word in ('and', 'or', ',')
            and i + 2 < len(words)
            and 'ADJ' in open_class_counts(words[i + 2])
            and _closed_tag(words[i + 2]) is None
        ):
            return 'ADJ'  # the first of coordinated adjectives
        if (
            prev_tag is None
            and word.endswith('ing')
            and counts.get('VERB', 0) > counts.get('NOUN', 0)
        ):
            return 'VERB'  # a caption that opens with a participle: "Playing guitar"
        if 'NOUN' in counts:
            return 'NOUN'
        return _most_frequent(counts)

    if (
        prev_tag in ('NOUN', 'PRON')
        and 'VERB' in counts
        and counts['VERB'] >= counts.get('NOUN', 0)
        and (_is_inflected_verb(word) or _is_plural_subject(prev_word, prev_tag))
    ):
        return 'VERB'  # "a man wearing", "the dog runs", "people walk"
    if prev_word in BE_FORMS and 'ADJ' in counts and not next_nounish:
        return 'ADJ'  # "is red"
    if prev_tag == 'NOUN' and 'NOUN' in counts:
        return 'NOUN'  # a compound: "tennis ball"
    if 'ADJ' in counts and next_nounish:
        return 'ADJ'
    return _most_frequent(counts)


def _noun_follows(tags: List[str], i: int) -> bool:
    """Whether a noun follows position ``i`` in the same noun phrase (through ADJ/CONJ/',')."""
    for tag in tags[i + 1 :]:
        if tag == 'NOUN':
            return True
        if tag not in ('ADJ', 'CONJ', 'OTHER', 'ADV'):
            return False
    return False


def tag_words(words: Sequence[str]) -> List[str]:
    """Coarse part-of-speech tags of a tokenized caption or phrase.

    Args:
        words: L tokens, e.g. from :func:`mmgrounding.text.word_tokenize` (case is ignored).

    Returns:
        L tags, each one of :data:`TAGS`: 'NOUN', 'ADJ', 'VERB', 'DET', 'ADP', 'NUM', 'PRON',
        'CONJ', 'ADV' or 'OTHER' (punctuation, symbols and the clitic "'s").

    Raises:
        LookupError: WordNet is not installed (see :func:`mmgrounding.text.get_wordnet`).
    """
    words = [word.lower() for word in words]
    tags: List[Optional[str]] = [_closed_tag(word) for word in words]
    for i, word in enumerate(words):
        if word == 'that':  # "that dog" vs. "a dog that runs"
            prev_tag = tags[i - 1] if i > 0 else None
            next_word = words[i + 1] if i + 1 < len(words) else None
            tags[i] = 'DET' if _is_nounish(next_word) and prev_tag != 'NOUN' else 'PRON'
        elif tags[i] is None:
            tags[i] = _open_tag(words, tags, i)
    for i, word in enumerate(words):
        if word in PRONOMINAL_ONES and i > 0 and tags[i - 1] in ('DET', 'ADJ'):
            tags[i] = 'NOUN'  # "the left one", "the red ones"
    for i, word in enumerate(words):
        opens_phrase = i > 0 and (
            tags[i - 1] in _NOUN_PHRASE_OPENERS or words[i - 1] in POSSESSIVES
        )
        if (
            tags[i] == 'ADJ'
            and opens_phrase
            and 'NOUN' in open_class_counts(word)
            and not _noun_follows(tags, i)
        ):
            tags[i] = 'NOUN'  # last open-class word of a noun phrase: "the front", "a light"
    for i in range(2, len(words)):
        if (
            tags[i] == 'VERB'
            and words[i - 1] in COLOURS
            and tags[i - 2] in ('NUM', 'DET')
            and 'NOUN' in open_class_counts(words[i])
        ):
            # "two blue crosses", "the red stars": a colour after a number or determiner
            # modifies the next word rather than being the subject of its verb reading
            tags[i - 1], tags[i] = 'ADJ', 'NOUN'
    return tags
