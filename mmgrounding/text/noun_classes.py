"""The noun → classifier-class link of CAM-WSVG: classes whose WordNet synsets are the noun's
synset or its hyponyms (ImageNet classes are WordNet ids)."""

import functools
import re
from typing import List, Optional, Sequence

from .head_noun import head_noun
from .wordnet import get_wordnet, lemmatize_noun, most_frequent_synset

_WNID = re.compile(r'^n(\d{8})$')
_SYNSET_NAME = re.compile(r'^.+\.n\.\d+$')


def class_synset(name: str):
    """The synset of a class name: a WordNet id (``'n02084071'``), a synset name
    (``'dog.n.01'``) or a plain noun (its most frequent sense).

    Raises:
        ValueError: the name is an id or synset name WordNet does not have.
    """
    wordnet = get_wordnet()
    match = _WNID.match(name)
    try:
        if match:
            synset = wordnet.synset_from_pos_and_offset('n', int(match.group(1)))
            if synset is None:
                raise ValueError('no such offset')
            return synset
        if _SYNSET_NAME.match(name):
            return wordnet.synset(name)
    except Exception as error:  # nltk raises WordNetError / ValueError, or returns None
        raise ValueError(f'class {name!r} is not a WordNet noun synset: {error}') from error
    return most_frequent_synset(name.replace('_', ' '))


def _closure(synset) -> frozenset:
    """The synset and every hypernym (class and instance) of it."""
    return frozenset([synset, *synset.closure(lambda s: s.hypernyms() + s.instance_hypernyms())])


class NounClassMapper:
    """Map nouns (or the head nouns of phrases) to classifier classes through WordNet.

    A class matches a noun when the class's synset is the noun's most frequent synset or one
    of its hyponyms (the noun's synset is among the class synset's hypernyms), or when the
    class's own name is the noun ("heart" the shape, whatever WordNet's first sense of
    "heart" is). Nouns without any class are counted in ``unmatched`` (by noun) and get [].

    With ``match='name'`` only the name rule is used: a classifier trained on nouns (the
    SynthGround one) has the nouns as classes, and WordNet's hyponymy would add classes it
    was not trained to separate (a circle is an ellipse, i.e. an "oval", in WordNet).

    Args:
        class_names: the C class names (see :func:`class_synset`).
        match: ``'hyponym'`` (WordNet and names) or ``'name'``.
    """

    MATCHES = ('hyponym', 'name')

    def __init__(self, class_names: Sequence[str], *, match: str = 'hyponym') -> None:
        if match not in self.MATCHES:
            raise ValueError(f'match must be one of {self.MATCHES}, got {match!r}')
        self.match = match
        self.class_names = list(class_names)
        self._closures = []
        self._lemmas = []
        for name in self.class_names:
            synset = class_synset(name) if match == 'hyponym' else None
            self._closures.append(_closure(synset) if synset is not None else frozenset())
            plain = name.split('.')[0] if not _WNID.match(name) else ''
            self._lemmas.append(lemmatize_noun(plain.replace('_', ' ').lower()) if plain else '')
        self.unmatched: dict[str, int] = {}
        self.classes_of_noun = functools.lru_cache(maxsize=None)(self._classes_of_noun)

    def _classes_of_noun(self, noun: str) -> tuple[int, ...]:
        noun = lemmatize_noun(noun.lower()) if noun else noun
        synset = most_frequent_synset(noun) if noun and self.match == 'hyponym' else None
        return tuple(
            i
            for i, (closure, lemma) in enumerate(zip(self._closures, self._lemmas))
            if (noun and lemma == noun) or (synset is not None and synset in closure)
        )

    def classes_of_phrase(self, phrase: str) -> List[int]:
        """Class indices of the phrase's head noun; [] (and a count) when there are none."""
        noun: Optional[str] = head_noun(phrase) or ''
        classes = list(self.classes_of_noun(noun))
        if not classes:
            self.unmatched[noun] = self.unmatched.get(noun, 0) + 1
        return classes
