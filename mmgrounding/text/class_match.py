"""CKD's rule that maps a phrase to a detector class: head noun, then WordNet synonyms and
hypernyms; and CAM-WSVG's, which also maps a hypernym to every class under it.

It builds on the tagger (:mod:`.pos`), the head noun (:mod:`.head_noun`) and WordNet
(:mod:`.wordnet`), which do not import it.
"""

import functools
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

from .head_noun import head_noun_index
from .lexicon import INDEFINITE_PRONOUNS
from .pos import tag_words
from .tokenize import word_tokenize
from .wordnet import (
    _hypernym_levels,
    _lemma_text,
    lemma_synsets,
    lemmatize_noun,
    most_frequent_synset,
)

if TYPE_CHECKING:
    from nltk.corpus.reader.wordnet import Synset


def _head_candidates(phrase: str) -> Tuple[List[str], Optional[str]]:
    """The words of ``phrase`` up to its lemmatised head noun, and the WordNet noun to look up.

    The lookup noun is the head noun, or a WordNet collocation of nouns that ends in it
    ("teddy bear", "tennis ball", "traffic light"): a teddy bear is a toy, not a bear.
    Adjective-noun collocations are not used, since WordNet ranks their senses oddly for
    pictures (its first "hot dog" is a show-off).
    """
    words = word_tokenize(phrase)
    tags = tag_words(words)
    head = head_noun_index(words, tags)
    if head is None or (tags[head] != 'NOUN' and words[head] not in INDEFINITE_PRONOUNS):
        return [], None  # no noun: "the left one" has "one", "she" has no noun at all
    lemmas = words[:head] + [lemmatize_noun(words[head])]
    for start in (head - 2, head - 1):
        if start >= 0 and all(tag == 'NOUN' for tag in tags[start:head]):
            compound = ' '.join(lemmas[start:])
            if most_frequent_synset(compound) is not None:
                return lemmas, compound
    return lemmas, lemmas[head]


def match_phrase_to_classes(phrase: str, class_names: Sequence[str]) -> Optional[Tuple[int, str]]:
    """Map a phrase to a detector class through its head noun and WordNet (CKD's rule).

    In order, the first rule that matches decides:

    1. ``'head'``: the lemmatised head noun equals a class name ("dogs" -> dog). A multi-word
       class name ("traffic light") matches the words of the phrase that end at the head as a
       whole, or else on its last word ("a soccer ball" -> sports ball). A class must cover a
       whole noun collocation: "a teddy bear" does not match "bear" by rule 1.
    2. ``'synonym'``: a lemma of the head noun's most frequent noun synset equals a class name
       ("sedan" -> ``sedan.n.01`` has no "car" lemma, so it goes on to rule 3).
    3. ``'hypernym'``: a lemma of one of that synset's hypernyms equals a class name; the
       nearest hypernyms win ("puppy" -> dog before animal, "spectator" -> ... -> person).

    Rules 2 and 3 look the head up as a WordNet collocation of nouns when the phrase has one
    ending in it ("a teddy bear" is a toy, not a bear). Among classes that match by the same
    rule (and, for rule 3, at the same distance) the one listed first wins.

    Args:
        phrase: a noun phrase, e.g. "a man in a red sweater".
        class_names: P detector class names, e.g. ``['person', 'clothing', 'dog']``;
            underscores count as spaces ("teddy_bear") and case is ignored.

    Returns:
        ``(class_index, how)`` with ``how`` in ``{'head', 'synonym', 'hypernym'}``, or None
        when nothing matches (the phrase has no noun, or no sense of it reaches a class).
    """
    lemmas, lookup = _head_candidates(phrase)
    if lookup is None:
        return None
    classes = [' '.join(name.lower().replace('_', ' ').split()) for name in class_names]
    class_lemmas = [
        ' '.join(name.split()[:-1] + [lemmatize_noun(name.split()[-1])]) if name else ''
        for name in classes
    ]

    # Rule 1, best first: the longest class whose words end the phrase at its head (and cover
    # the whole collocation looked up), then a multi-word class whose last word is the head.
    min_words = len(lookup.split())
    whole = [
        (len(name.split()), -index)
        for index, name in enumerate(class_lemmas)
        if len(name.split()) >= min_words and name.split() == lemmas[-len(name.split()) :]
    ]
    if whole:
        return -max(whole)[1], 'head'
    for index, name in enumerate(class_lemmas):
        if ' ' in name and name.split()[-1] == lemmas[-1]:
            return index, 'head'

    synset = most_frequent_synset(lookup)
    if synset is None:
        return None
    own_names = {_lemma_text(name) for name in synset.lemma_names()}
    for index, name in enumerate(class_lemmas):
        if name in own_names:
            return index, 'synonym'
    for level in _hypernym_levels(synset):
        level_names = set(level)
        for index, name in enumerate(class_lemmas):
            if name in level_names:
                return index, 'hypernym'
    return None


@functools.cache
def synset_closure(synset) -> frozenset:
    """The synset and every hypernym (class and instance) of it."""
    return frozenset([synset, *synset.closure(lambda s: s.hypernyms() + s.instance_hypernyms())])


def _of_collocation(phrase: str) -> Optional[str]:
    """The WordNet collocation "<head> of <noun>" of a phrase ("two pairs of scissors" ->
    "pair of scissors", "an article of clothing"), or None when WordNet has none."""
    words = word_tokenize(phrase)
    head = head_noun_index(words, tag_words(words))
    if head is None or head + 2 >= len(words) or words[head + 1] != 'of':
        return None
    collocation = f'{lemmatize_noun(words[head])} of {lemmatize_noun(words[head + 2])}'
    return collocation if most_frequent_synset(collocation) is not None else None


def match_phrase_to_class_set(
    phrase: str, class_names: Sequence[str], class_synsets: Sequence[Optional['Synset']]
) -> Optional[Tuple[Tuple[int, ...], str]]:
    """The classes a phrase names, down WordNet as well as up (CAM-WSVG on SynthGround v2).

    CKD's :func:`match_phrase_to_classes` gives one class, the noun's own or the nearest one
    above it ("a terrier" -> dog); a hypernym names no class there ("the animal"). Here a
    noun names every class at or under its synset, as a caption means it ("the dog" names
    the dogs and the poodles, "the animal" every animal). In order:

    1. ``'head'``: CKD's rule 1 names a class (its name ends the phrase at the head: "the
       top hat", "a police car"): that class and every class under its synset.
    2. ``'under'``: the noun's senses, most frequent first (the WordNet collocation "<head>
       of <noun>" first, then CKD's lookup noun); the first sense with classes at or under
       it gives them all ("the animal" -> the 13 animals; "a bell" -> the bell class, whose
       synset ``chime.n.01`` is not the most frequent sense of "bell").
    3. CKD's rules 2 and 3 (``'synonym'``, ``'hypernym'``): its one class ("a terrier").

    Args:
        phrase: a noun phrase.
        class_names: C class names, as for :func:`match_phrase_to_classes`.
        class_synsets: C synsets, each class's sense (None: the class matches by name only).

    Returns:
        ``(class indices in class order, how)``, or None when nothing matches.
    """
    closures = [synset_closure(s) if s is not None else frozenset() for s in class_synsets]
    ckd = match_phrase_to_classes(phrase, class_names)
    if ckd is not None and ckd[1] == 'head':
        own = class_synsets[ckd[0]]
        below = {i for i, closure in enumerate(closures) if own is not None and own in closure}
        return tuple(sorted(below | {ckd[0]})), 'head'
    lookups = [_of_collocation(phrase), _head_candidates(phrase)[1]]
    for lookup in dict.fromkeys(w for w in lookups if w):
        for synset in lemma_synsets(lookup):
            below = tuple(i for i, closure in enumerate(closures) if synset in closure)
            if below:
                return below, 'under'
    return ((ckd[0],), ckd[1]) if ckd is not None else None
