"""How objects are named: which attribute sets tell objects apart and which words say them.

Captions (:mod:`.language`) and referring expressions (:mod:`.referring`) are written through a
lexicon. :data:`SHAPE_LEXICON` names the shapes of the default build by their category;
:class:`HierarchyLexicon` names the pictograms of the v2 preset at any level of their WordNet
chain ("a poodle", "a dog", "the animal"). A word names *every* object it is true of: "the
dog" is ambiguous when the image holds a dog and a poodle, and "two dogs" are both.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .scene import Scene, SceneObject
from .taxonomy import CONCEPT_NOUNS, concept_chain

NUMBER_WORDS: Dict[int, str] = {
    2: 'two',
    3: 'three',
    4: 'four',
    5: 'five',
    6: 'six',
    7: 'seven',
    8: 'eight',
    9: 'nine',
}
ATTRIBUTE_SETS: Tuple[Tuple[str, ...], ...] = (
    ('category',),
    ('colour',),
    ('colour', 'category'),
    ('size', 'category'),
    ('size', 'colour'),
    ('size', 'colour', 'category'),
)
# One mention: (object indices, group wordings; () for a single object).
Mention = Tuple[Tuple[int, ...], Tuple[Tuple[str, ...], ...]]


def plural(noun: str) -> str:
    """English plural of a shape noun (``cross`` -> ``crosses``)."""
    return noun + 'es' if noun.endswith(('s', 'x', 'ch', 'sh')) else noun + 's'


class ShapeLexicon:
    """The flat shape nouns of the default build; attributes are compared for equality."""

    attribute_sets: Tuple[Tuple[str, ...], ...] = ATTRIBUTE_SETS
    # Chance that an object no attribute set singles out is first named by a relation
    # rather than a spatial word (0: spatial words first, as the default build does).
    relational_first_prob: float = 0.0

    def members(self, scene: Scene, target: int, attrs: Sequence[str]) -> Optional[Tuple[int, ...]]:
        """Indices of the objects that share ``attrs`` (e.g. ``('colour', 'category')``)."""
        t = scene.objects[target]
        return tuple(
            i
            for i, o in enumerate(scene.objects)
            if all(getattr(o, a) == getattr(t, a) for a in attrs)
        )

    def noun_phrases(
        self, obj: SceneObject, attrs: Sequence[str], *, plural_noun: bool = False
    ) -> List[Tuple[str, ...]]:
        """Word variants naming ``attrs`` of ``obj``: e.g. ("small", "red", "one")."""
        words = tuple(getattr(obj, a) for a in ('size', 'colour') if a in attrs)
        if 'category' in attrs:
            return [words + ((plural(obj.category) if plural_noun else obj.category),)]
        if plural_noun:
            return [words + ('shapes',)]
        return [words + ('shape',), words + ('one',)]

    def caption_noun(self, obj: SceneObject, rng: np.random.Generator) -> Tuple[str, ...]:
        """The noun of a single-object caption phrase (draws nothing here)."""
        return (obj.category,)

    def mentions(self, scene: Scene) -> List[Mention]:
        """Every single object, then every group that shares the attributes its words name.

        A group's words describe all objects with those attributes ("two yellow triangles"
        are all the yellow triangles of the image), never a subset.
        """
        objects = scene.objects
        groups: Dict[Tuple[int, ...], List[Tuple[str, ...]]] = {}

        def add(members: Tuple[int, ...], words: Tuple[str, ...]) -> None:
            if len(members) >= 2:
                groups.setdefault(members, []).append((NUMBER_WORDS[len(members)], *words))

        for colour, category in sorted({(o.colour, o.category) for o in objects}):
            members = tuple(
                i for i, o in enumerate(objects) if (o.colour, o.category) == (colour, category)
            )
            add(members, (colour, plural(category)))
            if len({objects[i].size for i in members}) == 1:
                add(members, (objects[members[0]].size, colour, plural(category)))
        for category in sorted({o.category for o in objects}):
            add(
                tuple(i for i, o in enumerate(objects) if o.category == category),
                (plural(category),),
            )
        for colour in sorted({o.colour for o in objects}):
            members = tuple(i for i, o in enumerate(objects) if o.colour == colour)
            if len({objects[i].category for i in members}) >= 2:
                add(members, (colour, 'shapes'))
        return [((i,), ()) for i in range(len(objects))] + [
            (members, tuple(words)) for members, words in groups.items()
        ]


SHAPE_LEXICON = ShapeLexicon()
_NOUN_LEVELS = ('noun0', 'noun1', 'noun2')


class HierarchyLexicon(ShapeLexicon):
    """Pictogram names at every level of the WordNet chain of their category.

    The attribute ``noun<k>`` is the k-th synset of the target's chain (``noun0`` its own,
    the last its supercategory); it holds for every object whose chain contains that synset.
    A noun level the target's chain does not have makes the attribute set inapplicable.

    Args:
        level_probs: chance that a single-object caption phrase names the category's own
            synset, the next one up, and the one after that (renormalised over the chain).
        relational_first_prob: chance that an object no attribute set singles out is first
            named by a relation ("the red dog left of the car") rather than a spatial word.
    """

    attribute_sets = (
        ('noun0',),
        ('noun1',),
        ('noun2',),
        ('colour',),
        ('colour', 'noun0'),
        ('colour', 'noun1'),
        ('colour', 'noun2'),
        ('size', 'noun0'),
        ('size', 'noun1'),
        ('size', 'colour'),
        ('size', 'colour', 'noun0'),
        ('size', 'colour', 'noun1'),
    )

    def __init__(
        self,
        *,
        level_probs: Tuple[float, float, float] = (0.6, 0.25, 0.15),
        relational_first_prob: float = 0.5,
    ) -> None:
        self.level_probs = tuple(level_probs)
        self.relational_first_prob = relational_first_prob

    @staticmethod
    def _concept(obj: SceneObject, attr: str) -> Optional[str]:
        chain = concept_chain(obj.category)
        level = _NOUN_LEVELS.index(attr)
        return chain[level] if level < len(chain) else None

    def members(self, scene: Scene, target: int, attrs: Sequence[str]) -> Optional[Tuple[int, ...]]:
        t = scene.objects[target]
        concepts = [self._concept(t, a) for a in attrs if a in _NOUN_LEVELS]
        if None in concepts:
            return None
        return tuple(
            i
            for i, o in enumerate(scene.objects)
            if all(getattr(o, a) == getattr(t, a) for a in attrs if a not in _NOUN_LEVELS)
            and all(c in concept_chain(o.category) for c in concepts)
        )

    def noun_phrases(
        self, obj: SceneObject, attrs: Sequence[str], *, plural_noun: bool = False
    ) -> List[Tuple[str, ...]]:
        words = tuple(getattr(obj, a) for a in ('size', 'colour') if a in attrs)
        nouns = [a for a in attrs if a in _NOUN_LEVELS]
        if nouns:
            names = CONCEPT_NOUNS[self._concept(obj, nouns[0])]
            return [words + (n.plural if plural_noun else n.singular) for n in names]
        if plural_noun:
            return [words + ('objects',)]
        return [words + ('object',), words + ('one',)]

    def caption_noun(self, obj: SceneObject, rng: np.random.Generator) -> Tuple[str, ...]:
        chain = concept_chain(obj.category)
        probs = np.asarray(self.level_probs[: len(chain)], dtype=np.float64)
        level = int(rng.choice(len(chain), p=probs / probs.sum()))
        names = CONCEPT_NOUNS[chain[level]]
        return names[int(rng.integers(len(names)))].singular

    def mentions(self, scene: Scene) -> List[Mention]:
        """Singles, then groups: every object a concept is true of, alone or by colour."""
        objects = scene.objects
        chains = [concept_chain(o.category) for o in objects]
        groups: Dict[Tuple[int, ...], List[Tuple[str, ...]]] = {}

        def add(members: Tuple[int, ...], words: Tuple[str, ...]) -> None:
            if len(members) >= 2 and (NUMBER_WORDS[len(members)], *words) not in groups.get(
                members, []
            ):
                groups.setdefault(members, []).append((NUMBER_WORDS[len(members)], *words))

        for concept in sorted({c for chain in chains for c in chain}):
            names = CONCEPT_NOUNS[concept]
            members = tuple(i for i, chain in enumerate(chains) if concept in chain)
            for name in names:
                add(members, name.plural)
            for colour in sorted({objects[i].colour for i in members}):
                coloured = tuple(i for i in members if objects[i].colour == colour)
                add(coloured, (colour, *names[0].plural))
                if len({objects[i].size for i in coloured}) == 1:
                    add(coloured, (objects[coloured[0]].size, colour, *names[0].plural))
        for colour in sorted({o.colour for o in objects}):
            members = tuple(i for i, o in enumerate(objects) if o.colour == colour)
            if len({objects[i].category for i in members}) >= 2:
                add(members, (colour, 'objects'))
        return [((i,), ()) for i in range(len(objects))] + [
            (members, tuple(words)) for members, words in groups.items()
        ]
