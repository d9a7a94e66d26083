"""SynthGround's referring expressions (RefCOCO) and region descriptions (Visual Genome).

Every expression is checked to single out its object within the image: the shortest attribute
set that is unique, else spatial words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .language import (
    CAPTION_RELATION_WORDS,
    DIRECTIONS,
    INVERSE_PREDICATE,
)
from .lexicon import SHAPE_LEXICON, ShapeLexicon
from .relations import (
    DIRECTIONAL_PREDICATES,
    min_separation_px,
    pairwise_relations,
    relation,
)
from .scene import Scene, SceneObject

# The smaller vocabulary of referring expressions (what a RefCOCO-style parser must know).
REFEXP_RELATION_WORDS: Dict[str, Tuple[Tuple[str, ...], ...]] = {
    'left of': (('left', 'of'), ('to', 'the', 'left', 'of')),
    'right of': (('right', 'of'), ('to', 'the', 'right', 'of')),
    'above': (('above',), ('over',)),
    'below': (('below',), ('under',)),
}


EXPRESSION_KINDS: Tuple[str, ...] = ('attribute', 'spatial', 'relational')


@dataclass(frozen=True)
class ReferringExpression:
    """A RefCOCO-style sentence that singles out ``target`` (an object index).

    ``kind`` says what tells the target apart: ``'attribute'`` (category, colour, size),
    ``'spatial'`` (a spatial word among look-alikes) or ``'relational'`` (a relation to a
    landmark).
    """

    target: int
    raw: str
    tokens: Tuple[str, ...]
    kind: str = 'attribute'


@dataclass(frozen=True)
class RegionDescription:
    """A Visual-Genome-style region: a phrase about one object or a related pair."""

    object_indices: Tuple[int, ...]
    phrase: str


def matching_objects(
    scene: Scene, target: int, attrs: Sequence[str], *, lexicon: ShapeLexicon = SHAPE_LEXICON
) -> Optional[Tuple[int, ...]]:
    """Indices of the objects that share ``attrs`` (e.g. ``('colour', 'category')``).

    None when ``attrs`` do not apply to the target (a noun level its chain does not have).
    """
    return lexicon.members(scene, target, attrs)


def _is_extreme(
    scene: Scene, target: int, members: Sequence[int], direction: str, margin: float
) -> bool:
    axis, sign = DIRECTIONS[direction]
    value = sign * scene.objects[target].centre_xy[axis]
    return all(
        value - sign * scene.objects[m].centre_xy[axis] >= margin for m in members if m != target
    )


def _weak_relation(subject: SceneObject, obj: SceneObject, predicate: str) -> bool:
    """Whether ``subject`` is at all on the ``predicate`` side of ``obj`` (no margin)."""
    (sx, sy), (ox, oy) = subject.centre_xy, obj.centre_xy
    return {'left of': sx < ox, 'right of': sx > ox, 'above': sy < oy, 'below': sy > oy}[predicate]


def _look_alikes(
    scene: Scene, lexicon: ShapeLexicon
) -> Dict[Tuple[str, ...], List[Optional[Tuple[int, ...]]]]:
    """For every attribute set, every object's :func:`matching_objects`."""
    return {
        attrs: [lexicon.members(scene, i, attrs) for i in range(len(scene.objects))]
        for attrs in lexicon.attribute_sets
    }


def _expression_candidates(
    scene: Scene,
    target: int,
    look_alikes: Dict[Tuple[str, ...], List[Optional[Tuple[int, ...]]]],
    lexicon: ShapeLexicon,
) -> List[List[Tuple[str, ...]]]:
    """Unambiguous expressions for ``target`` by kind: [attribute, spatial, relational]."""
    obj = scene.objects[target]
    margin = min_separation_px(scene.width, scene.height)
    attribute_sets = lexicon.attribute_sets
    noun_phrases = lexicon.noun_phrases
    unique = [a for a in attribute_sets if look_alikes[a][target] == (target,)]
    attribute: List[Tuple[str, ...]] = []
    for attrs in unique:
        if len(attrs) == len(unique[0]):  # only the shortest sets that single it out
            for np_words in noun_phrases(obj, attrs):
                attribute += [('the', *np_words), np_words]
    spatial: List[Tuple[str, ...]] = []
    level = None  # attribute-set length of the first spatial expressions found
    for attrs in sorted(attribute_sets, key=len):
        members = look_alikes[attrs][target]
        if members is None or len(members) < 2 or (level is not None and len(attrs) > level):
            continue
        extreme = [d for d in DIRECTIONS if _is_extreme(scene, target, members, d, margin)]
        if extreme:
            level = len(attrs)
        for np_words in noun_phrases(obj, attrs):
            for d in extreme:
                word = {
                    'left': 'leftmost',
                    'right': 'rightmost',
                    'top': 'topmost',
                    'bottom': 'bottommost',
                }[d]
                side = ('on', 'the', d) if d in ('left', 'right') else ('at', 'the', d)
                spatial += [('the', word, *np_words), ('the', *np_words, *side)]
            for v in (d for d in extreme if d in ('top', 'bottom')):
                for h in (d for d in extreme if d in ('left', 'right')):
                    spatial += [('the', v, h, *np_words), (v, h, *np_words)]
        if len(members) == 2:
            plural_words = noun_phrases(obj, attrs, plural_noun=True)[0]
            two = {
                'left': ('left', 'one'),
                'right': ('right', 'one'),
                'top': ('upper',),
                'bottom': ('lower',),
            }
            spatial += [('the', *two[d], 'of', 'the', 'two', *plural_words) for d in extreme]
    relational: List[Tuple[str, ...]] = []
    min_sep = min_separation_px(scene.width, scene.height)
    for other, landmark in enumerate(scene.objects):
        landmark_attrs = next(
            (a for a in attribute_sets if look_alikes[a][other] == (other,)), None
        )
        predicate = relation(obj, landmark, min_sep=min_sep) if other != target else None
        if landmark_attrs is None or predicate is None:
            continue
        for attrs in attribute_sets:
            members = look_alikes[attrs][target]
            if members is None:
                continue
            if any(
                _weak_relation(scene.objects[m], landmark, predicate)
                for m in members
                if m != target
            ):
                continue
            landmark_np = noun_phrases(landmark, landmark_attrs)[0]
            for words in REFEXP_RELATION_WORDS[predicate]:
                relational.append(
                    ('the', *noun_phrases(obj, attrs)[0], *words, 'the', *landmark_np)
                )
            break  # the shortest attribute set that works for this landmark
    return [attribute, spatial, relational]


def generate_referring_expressions(
    scene: Scene,
    rng: np.random.Generator,
    *,
    max_per_object: int = 3,
    lexicon: ShapeLexicon = SHAPE_LEXICON,
) -> List[List[ReferringExpression]]:
    """1 to ``max_per_object`` distinct unambiguous expressions for every object.

    The first expression uses the shortest attribute set (category; colour; colour +
    category; size + category; ...) that singles the object out; when none does, a spatial
    word among the look-alikes ("the leftmost red circle", "the lower of the two green
    crosses", "top left star"); the others are drawn from all valid expressions, including
    relational ones ("the red circle left of the blue square"). With a lexicon whose
    ``relational_first_prob`` is positive, an object no attribute set singles out is first
    named by a relation with that chance, when one exists.

    Returns:
        Per object (in scene order), its expressions.
    """
    expressions = []
    look_alikes = _look_alikes(scene, lexicon)
    for target in range(len(scene.objects)):
        kinds = _expression_candidates(scene, target, look_alikes, lexicon)
        primary = next((k for k in kinds if k), None)
        if (
            lexicon.relational_first_prob > 0
            and not kinds[0]
            and kinds[2]
            and rng.random() < lexicon.relational_first_prob
        ):
            primary = kinds[2]
        if primary is None:
            raise RuntimeError(f'no unambiguous expression for object {target} of {scene}')
        first = primary[int(rng.integers(len(primary)))]
        pool = sorted({c for k in kinds for c in k if c != first})
        count = min(int(rng.integers(1, max_per_object + 1)), len(pool) + 1)
        chosen = [first] + [pool[int(i)] for i in rng.choice(len(pool), count - 1, replace=False)]
        kind_of = {}
        for name, candidates in zip(EXPRESSION_KINDS, kinds):
            for candidate in candidates:
                kind_of.setdefault(candidate, name)
        kind_of[first] = EXPRESSION_KINDS[next(k for k, c in enumerate(kinds) if c is primary)]
        per_object = []
        for tokens in chosen:
            raw = ' '.join(tokens)
            if rng.random() < 0.3:
                raw = raw[:1].upper() + raw[1:]
            if rng.random() < 0.2:
                raw += '.'
            per_object.append(ReferringExpression(target, raw, tuple(tokens), kind_of[tokens]))
        expressions.append(per_object)
    return expressions


def describe_object(obj: SceneObject) -> str:
    """Visual-Genome-style object phrase, e.g. ``'small red circle'``."""
    return f'{obj.size} {obj.colour} {obj.category}'


def generate_region_descriptions(
    scene: Scene, rng: np.random.Generator, *, max_pair_regions: int = 3
) -> List[RegionDescription]:
    """One region per object plus up to ``max_pair_regions`` related pairs."""
    regions = []
    for i, obj in enumerate(scene.objects):
        phrase = describe_object(obj) if rng.random() < 0.5 else f'{obj.colour} {obj.category}'
        regions.append(RegionDescription((i,), phrase))
    related: List[Tuple[int, str, int]] = [
        t for t in pairwise_relations(scene) if t[1] in DIRECTIONAL_PREDICATES
    ]
    for k in rng.permutation(len(related))[:max_pair_regions]:
        i, predicate, j = related[int(k)]
        if rng.random() < 0.5:
            i, predicate, j = j, INVERSE_PREDICATE[predicate], i
        a, b = scene.objects[i], scene.objects[j]
        words = CAPTION_RELATION_WORDS[predicate][int(rng.integers(2))]
        phrase = f'{a.colour} {a.category} {" ".join(words)} {b.colour} {b.category}'
        regions.append(RegionDescription((i, j), phrase))
    return regions


def region_box_xyxy(scene: Scene, indices: Sequence[int]) -> Tuple[int, int, int, int]:
    """Union box of the given objects."""
    boxes = np.asarray([scene.objects[i].box_xyxy for i in indices])  # (K, 4)
    return (
        int(boxes[:, 0].min()),
        int(boxes[:, 1].min()),
        int(boxes[:, 2].max()),
        int(boxes[:, 3].max()),
    )
