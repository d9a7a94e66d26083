"""The noun → classifier-class link of CAM-WSVG: classes whose WordNet synsets are the noun's
synset or its hyponyms (ImageNet classes are WordNet ids); ``match='wordnet'`` adds CKD's
upward rule (:func:`~mmgrounding.text.class_match.match_phrase_to_class_set`)."""

import functools
import re
from typing import List, Optional, Sequence

from .class_match import match_phrase_to_class_set, synset_closure
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


class NounClassMapper:
    """Map nouns (or the head nouns of phrases) to classifier classes through WordNet.

    A class matches a noun when the class's synset is the noun's most frequent synset or one
    of its hyponyms (the noun's synset is among the class synset's hypernyms), or when the
    class's own name is the noun ("heart" the shape, whatever WordNet's first sense of
    "heart" is). Nouns without any class are counted in ``unmatched`` (by noun) and get [].

    With ``match='name'`` only the name rule is used: a classifier trained on nouns (the
    SynthGround one) has the nouns as classes, and WordNet's hyponymy would add classes it
    was not trained to separate (a circle is an ellipse, i.e. an "oval", in WordNet).

    With ``match='wordnet'`` a phrase gets the classes of
    :func:`~mmgrounding.text.class_match.match_phrase_to_class_set`: CKD's head noun and
    collocations, every class at or under the noun's first sense that has one ("the
    animal" -> every animal class, "the dog" -> dog and poodle), else CKD's nearest class
    above it ("a terrier" -> dog). SynthGround v2 names its objects by synonyms and
    hypernyms; its categories' senses are not always their names' most frequent ones (a
    bell is ``chime.n.01``), so ``class_synsets`` gives them.

    Args:
        class_names: the C class names (see :func:`class_synset`).
        match: ``'hyponym'`` (WordNet and names), ``'name'`` or ``'wordnet'``.
        class_synsets: with ``'hyponym'`` or ``'wordnet'``, C synset names ('hog.n.03')
            that replace the senses found from the class names; None keeps those.
    """

    MATCHES = ('hyponym', 'name', 'wordnet')

    def __init__(
        self,
        class_names: Sequence[str],
        *,
        match: str = 'hyponym',
        class_synsets: Optional[Sequence[str]] = None,
    ) -> None:
        if match not in self.MATCHES:
            raise ValueError(f'match must be one of {self.MATCHES}, got {match!r}')
        wrong = class_synsets is not None and len(class_synsets) != len(class_names)
        if class_synsets is not None and (match == 'name' or wrong):
            raise ValueError(
                f"class_synsets needs match 'hyponym' or 'wordnet' and one synset per class "
                f'({len(class_names)}), got {len(class_synsets)} with {match!r}'
            )
        self.match = match
        self.class_names = list(class_names)
        self._closures = []
        self._lemmas = []
        self._synsets = []
        for i, name in enumerate(self.class_names):
            sense = class_synsets[i] if class_synsets is not None else name
            synset = class_synset(sense) if match != 'name' else None
            self._synsets.append(synset)
            self._closures.append(synset_closure(synset) if synset is not None else frozenset())
            plain = name.split('.')[0] if not _WNID.match(name) else ''
            self._lemmas.append(lemmatize_noun(plain.replace('_', ' ').lower()) if plain else '')
        self.unmatched: dict[str, int] = {}
        self.classes_of_noun = functools.lru_cache(maxsize=None)(self._classes_of_noun)
        self._classes_of_text = functools.lru_cache(maxsize=None)(self._wordnet_classes)

    def _wordnet_classes(self, text: str) -> tuple[int, ...]:
        match = match_phrase_to_class_set(text, self.class_names, self._synsets)
        return match[0] if match is not None else ()

    def _classes_of_noun(self, noun: str) -> tuple[int, ...]:
        if self.match == 'wordnet':
            return self._classes_of_text(noun) if noun else ()
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
        if self.match == 'wordnet':  # the phrase's collocations count ("a top hat")
            classes = list(self._classes_of_text(phrase))
        else:
            classes = list(self.classes_of_noun(noun))
        if not classes:
            self.unmatched[noun] = self.unmatched.get(noun, 0) + 1
        return classes
