"""Captions with grounded phrases, referring expressions and region descriptions.

All text is generated from a :class:`~.scene.Scene` and a ``numpy.random.Generator``. Every
spatial word used is checked against the box centres (see :func:`.relations.relation`), and every
referring expression is checked to single out its object within the image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple, Union

import numpy as np

from .lexicon import (  # noqa: F401 (ATTRIBUTE_SETS, NUMBER_WORDS, plural: re-exported)
    ATTRIBUTE_SETS,
    NUMBER_WORDS,
    SHAPE_LEXICON,
    ShapeLexicon,
    plural,
)
from .relations import (
    NEXT_TO,
    is_next_to,
    min_separation_px,
    near_threshold_px,
    relation,
)
from .scene import Scene, SceneObject

SCENE_PHRASE_TYPE = 'scene'
NOTVISUAL_PHRASE_TYPE = 'notvisual'
NOTVISUAL_ENTITY_ID = 0  # as in Flickr30k Entities: "[/EN#0/notvisual it]"
INVERSE_PREDICATE: Dict[str, str] = {
    'left of': 'right of',
    'right of': 'left of',
    'above': 'below',
    'below': 'above',
    NEXT_TO: NEXT_TO,
}
CAPTION_RELATION_WORDS: Dict[str, Tuple[Tuple[str, ...], ...]] = {
    'left of': (('to', 'the', 'left', 'of'), ('left', 'of'), ('on', 'the', 'left', 'side', 'of')),
    'right of': (
        ('to', 'the', 'right', 'of'),
        ('right', 'of'),
        ('on', 'the', 'right', 'side', 'of'),
    ),
    'above': (('above',), ('over',)),
    'below': (('below',), ('under',), ('beneath',)),
    NEXT_TO: (('next', 'to'), ('beside',), ('close', 'to')),
}
# Background kind -> ((preposition words), (scene phrase words)) choices.
SCENE_PHRASE_WORDS: Dict[str, Tuple[Tuple[Tuple[str, ...], Tuple[str, ...]], ...]] = {
    'gradient': (
        (('on',), ('a', 'shaded', 'background')),
        (('against',), ('a', 'smooth', 'gradient')),
        (('in',), ('a', 'softly', 'shaded', 'scene')),
    ),
    'stripes': (
        (('on',), ('a', 'striped', 'background')),
        (('in',), ('a', 'striped', 'scene')),
        (('against',), ('stripes',)),
    ),
    'checkerboard': (
        (('on',), ('a', 'checkered', 'background')),
        (('in',), ('a', 'checkered', 'scene')),
        (('on',), ('a', 'checkerboard')),
    ),
    'noise': (
        (('on',), ('a', 'mottled', 'background')),
        (('in',), ('a', 'blotchy', 'scene')),
        (('on',), ('a', 'noisy', 'backdrop')),
    ),
}
# Direction -> (axis of the centre: 0 = x, 1 = y; sign: -1 = smallest coordinate wins).
DIRECTIONS: Dict[str, Tuple[int, int]] = {
    'left': (0, -1),
    'right': (0, 1),
    'top': (1, -1),
    'bottom': (1, 1),
}


def article(word: str) -> str:
    """Indefinite article before ``word``."""
    return 'an' if word[:1] in 'aeiou' else 'a'


@dataclass(frozen=True)
class Entity:
    """What a phrase refers to: a set of objects (empty for the scene) and its phrase types."""

    object_indices: Tuple[int, ...]
    phrase_types: Tuple[str, ...]


@dataclass(frozen=True)
class Phrase:
    """A grounded mention inside a caption; ``entity_id`` is local to the image (0: notvisual)."""

    entity_id: int
    phrase_types: Tuple[str, ...]
    words: Tuple[str, ...]


@dataclass(frozen=True)
class Caption:
    """A caption as words and phrases, plus the relations it states.

    Attributes:
        segments: plain words (punctuation is a separate word) and phrases, in order.
        relations: (subject entity id, predicate, object entity id) stated by the caption;
            each holds for every (subject object, object object) pair.
    """

    segments: Tuple[Union[str, Phrase], ...]
    relations: Tuple[Tuple[int, str, int], ...] = ()

    @property
    def text(self) -> str:
        """The plain caption: all words joined by single spaces."""
        words: List[str] = []
        for segment in self.segments:
            words.extend(segment.words if isinstance(segment, Phrase) else (segment,))
        return ' '.join(words)

    def phrase_spans(self) -> List[Tuple[Phrase, int, int]]:
        """Each phrase with its [start, end) character span in :attr:`text`."""
        spans, offset = [], 0
        for segment in self.segments:
            words = segment.words if isinstance(segment, Phrase) else (segment,)
            start = offset
            offset += sum(len(w) for w in words) + len(words)
            if isinstance(segment, Phrase):
                spans.append((segment, start, offset - 1))
        return spans


def _capitalise(segments: List[Union[str, Phrase]]) -> List[Union[str, Phrase]]:
    first = segments[0]
    if isinstance(first, Phrase):
        words = (first.words[0][:1].upper() + first.words[0][1:],) + first.words[1:]
        return [Phrase(first.entity_id, first.phrase_types, words)] + segments[1:]
    return [first[:1].upper() + first[1:]] + segments[1:]


class _CaptionWriter:
    """Writes the captions of one image, keeping entity ids consistent across them."""

    def __init__(
        self, scene: Scene, rng: np.random.Generator, lexicon: ShapeLexicon = SHAPE_LEXICON
    ) -> None:
        self.scene, self.rng, self.lexicon = scene, rng, lexicon
        self.mentions = lexicon.mentions(scene)  # (object indices, group wordings or ())
        self.entity_ids: Dict[Tuple[int, ...], int] = {}
        self.entities: Dict[int, Entity] = {}
        self.mentioned = [False] * len(scene.objects)
        self.pairs = []  # (mention a, predicate, mention b), both directions
        for a, (ia, _) in enumerate(self.mentions):
            for b, (ib, _) in enumerate(self.mentions):
                if a != b and not set(ia) & set(ib):
                    for predicate in _group_predicates(scene, ia, ib):
                        self.pairs.append((a, predicate, b))

    def _register(self, key: Tuple[int, ...], entity: Entity) -> int:
        if key not in self.entity_ids:
            self.entity_ids[key] = len(self.entity_ids) + 1
            self.entities[self.entity_ids[key]] = entity
        return self.entity_ids[key]

    def phrase(self, mention: int) -> Phrase:
        indices, wordings = self.mentions[mention]
        objects = [self.scene.objects[i] for i in indices]
        if wordings:
            words = wordings[int(self.rng.integers(len(wordings)))]
        else:
            words = self._single_words(objects[0])
        types = tuple(sorted({o.phrase_type for o in objects}))
        entity_id = self._register(indices, Entity(indices, types))
        for i in indices:
            self.mentioned[i] = True
        return Phrase(entity_id, types, tuple(words))

    def _single_words(self, obj: SceneObject) -> Tuple[str, ...]:
        attrs = []
        if self.rng.random() < 0.45:
            synonym = {'small': 'little', 'large': 'big'}[obj.size]
            attrs.append(obj.size if self.rng.random() < 0.7 else synonym)
        if self.rng.random() < 0.85:
            attrs.append(obj.colour)
        words = attrs + list(self.lexicon.caption_noun(obj, self.rng))
        return (article(words[0]), *words)

    def scene_segments(self) -> List[Union[str, Phrase]]:
        options = SCENE_PHRASE_WORDS[self.scene.background.kind]
        preposition, words = options[int(self.rng.integers(len(options)))]
        entity_id = self._register((), Entity((), (SCENE_PHRASE_TYPE,)))
        return [*preposition, Phrase(entity_id, (SCENE_PHRASE_TYPE,), words)]

    def choose(self, items: Sequence, unmentioned: Sequence[int]) -> object:
        """Half the time any item, else one that mentions the most unmentioned objects."""
        if self.rng.random() < 0.5:
            best = max(unmentioned)
            items = [it for it, n in zip(items, unmentioned) if n == best]
        return items[int(self.rng.integers(len(items)))]

    def _new_objects(self, *mentions: int) -> int:
        return len({i for m in mentions for i in self.mentions[m][0] if not self.mentioned[i]})

    def _relation_words(self, predicate: str) -> Tuple[str, ...]:
        options = CAPTION_RELATION_WORDS[predicate]
        return options[int(self.rng.integers(len(options)))]

    def _verb(self, mention: int) -> str:
        return 'are' if len(self.mentions[mention][0]) > 1 else 'is'

    def caption(self, *, force_objects: Sequence[int] = ()) -> Caption:
        """One caption; ``force_objects`` makes it a list that mentions those objects."""
        rng = self.rng
        directional = [p for p in self.pairs if p[1] != NEXT_TO]
        near = [p for p in self.pairs if p[1] == NEXT_TO]
        shared = [
            (a, p, b, c)
            for (a, p, b) in directional
            for (a2, p2, c) in directional
            if a2 == a
            and p2 == p
            and b < c
            and not set(self.mentions[b][0]) & set(self.mentions[c][0])
        ]
        related_pairs = len({frozenset((a, b)) for a, _, b in self.pairs})
        options = [('list', 1.0)]
        if not force_objects and self.pairs:
            options += [
                ('relation', 3.0),
                ('front', 1.2),
                ('shared', 1.5 if shared else 0.0),
                ('clauses', 1.0 if related_pairs > 1 else 0.0),
            ]
        names = [n for n, w in options if w > 0]
        weights = np.asarray([w for _, w in options if w > 0])
        kind = names[int(rng.choice(len(names), p=weights / weights.sum()))]
        relations: List[Tuple[int, str, int]] = []
        if kind == 'list':
            segments = self._list_segments(force_objects)
        elif kind == 'shared':
            a, p, b, c = self.choose(shared, [self._new_objects(s[0], s[2], s[3]) for s in shared])
            pa, pb, pc = self.phrase(a), self.phrase(b), self.phrase(c)
            segments = ['there', self._verb(a), pa, *self._relation_words(p), pb, 'and', pc]
            relations = [(pa.entity_id, p, pb.entity_id), (pa.entity_id, p, pc.entity_id)]
        else:
            pool = near if near and rng.random() < 0.15 else (directional or near)
            a, p, b = self.choose(pool, [self._new_objects(s[0], s[2]) for s in pool])
            pa, pb = self.phrase(a), self.phrase(b)
            relations = [(pa.entity_id, p, pb.entity_id)]
            words = self._relation_words(p)
            if kind == 'front':
                segments = [*words, pb, 'there', self._verb(a), pa]
            elif kind == 'relation':
                form = int(rng.integers(3))
                verb = [[self._verb(a)], [], ['can', 'be', 'seen']][form]
                segments = [pa, *verb, *words, pb]
            else:  # two clauses
                others = [s for s in self.pairs if {s[0], s[2]} != {a, b}]
                c, q, d = self.choose(others, [self._new_objects(s[0], s[2]) for s in others])
                pc, pd = self.phrase(c), self.phrase(d)
                relations.append((pc.entity_id, q, pd.entity_id))
                joint = [[',', 'and'], ['while'], [';']][int(rng.integers(3))]
                segments = [
                    pa,
                    self._verb(a),
                    *words,
                    pb,
                    *joint,
                    pc,
                    self._verb(c),
                    *self._relation_words(q),
                    pd,
                ]
        return Caption(tuple(segments), tuple(relations))

    def _list_segments(self, force_objects: Sequence[int]) -> List[Union[str, Phrase]]:
        rng = self.rng
        singles = {
            self.mentions[m][0][0]: m
            for m in range(len(self.mentions))
            if len(self.mentions[m][0]) == 1
        }
        chosen = [singles[i] for i in force_objects]
        target = max(len(chosen), int(rng.integers(2, 4)))
        order = [int(m) for m in rng.permutation(len(self.mentions))]
        used = {i for m in chosen for i in self.mentions[m][0]}
        for m in sorted(order, key=lambda m: -self._new_objects(m)):
            if len(chosen) >= target:
                break
            if not used & set(self.mentions[m][0]):
                chosen.append(m)
                used |= set(self.mentions[m][0])
        phrases = [self.phrase(m) for m in chosen]
        items: List[Union[str, Phrase]] = [phrases[0]]
        for k, phrase in enumerate(phrases[1:], start=1):
            items += ([','] if k < len(phrases) - 1 else ['and']) + [phrase]
        if len(phrases) == 1:
            prefix = ['there', self._verb(chosen[0])]
        else:
            prefixes = [
                [],
                ['an', 'image', 'of'],
                ['a', 'picture', 'with'],
                ['we', 'see'],
                ['there', 'are'],
            ]
            prefix = prefixes[int(rng.integers(len(prefixes)))]
        return prefix + items


def _group_predicates(scene: Scene, a: Sequence[int], b: Sequence[int]) -> List[str]:
    """Predicates that hold for every (object of a, object of b) pair."""
    min_sep = min_separation_px(scene.width, scene.height)
    near_px = near_threshold_px(scene.width, scene.height)
    objs = scene.objects
    found = {relation(objs[i], objs[j], min_sep=min_sep) for i in a for j in b}
    predicates = [found.pop()] if len(found) == 1 and None not in found else []
    if all(is_next_to(objs[i], objs[j], near_px=near_px) for i in a for j in b):
        predicates.append(NEXT_TO)
    return predicates


def generate_captions(
    scene: Scene,
    rng: np.random.Generator,
    *,
    num_captions: int,
    scene_phrase_prob: float = 0.15,
    notvisual_prob: float = 0.04,
    lexicon: ShapeLexicon = SHAPE_LEXICON,
) -> Tuple[List[Caption], Dict[int, Entity]]:
    """Captions that together mention every object of the scene.

    Args:
        scene: the image content.
        rng: the only source of randomness.
        num_captions: captions to write.
        scene_phrase_prob: chance that a caption ends with a scene phrase.
        notvisual_prob: chance that a caption starts with a ``notvisual`` phrase ("it seems").
        lexicon: how objects are named (default: the shape nouns).

    Returns:
        The captions and the entity table (local entity id, from 1, -> entity). Entity 0, the
        ``notvisual`` one, is not in the table.
    """
    writer = _CaptionWriter(scene, rng, lexicon)
    captions = []
    for k in range(num_captions):
        missing = [i for i, done in enumerate(writer.mentioned) if not done]
        force = missing if k == num_captions - 1 else ()
        caption = writer.caption(force_objects=force)
        segments = list(caption.segments)
        if rng.random() < scene_phrase_prob:
            segments += writer.scene_segments()
        if rng.random() < notvisual_prob:
            lead = [['seems', 'that'], ['looks', 'like']][int(rng.integers(2))]
            it = Phrase(NOTVISUAL_ENTITY_ID, (NOTVISUAL_PHRASE_TYPE,), ('it',))
            segments = [it, *lead] + segments
        segments = _capitalise(segments + ['.'])
        captions.append(Caption(tuple(segments), caption.relations))
    return captions, dict(writer.entities)
