"""CKD's rule that maps a phrase to a detector class: head noun, then WordNet synonyms and
hypernyms.

It builds on the tagger (:mod:`.pos`), the head noun (:mod:`.head_noun`) and WordNet
(:mod:`.wordnet`), which do not import it.
"""

from typing import List, Optional, Sequence, Tuple

from .head_noun import head_noun_index
from .lexicon import INDEFINITE_PRONOUNS
from .pos import tag_words
from .tokenize import word_tokenize
from .wordnet import _hypernym_levels, _lemma_text, lemmatize_noun, most_frequent_synset


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
