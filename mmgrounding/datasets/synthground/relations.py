"""Spatial relations between the objects of a scene, decided from their boxes.

Every spatial word SynthGround writes is one of these predicates and holds in the image:
directional words need a clear centre offset on a dominant axis, ``'next to'`` a small gap.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

from .scene import Scene, SceneObject

# Spatial words need a centre offset of at least this fraction of min(W, H) ...
MIN_SEPARATION_FRACTION = 0.08
# ... on an axis that dominates the other by this ratio.
DOMINANCE_RATIO = 1.2
# "next to": the gap between two boxes is at most this fraction of min(W, H).
NEAR_FRACTION = 0.08
DIRECTIONAL_PREDICATES: Tuple[str, ...] = ('left of', 'right of', 'above', 'below')
NEXT_TO = 'next to'


def min_separation_px(width: int, height: int) -> float:
    """Smallest centre offset (pixels) that spatial words may describe."""
    return MIN_SEPARATION_FRACTION * min(width, height)


def near_threshold_px(width: int, height: int) -> float:
    """Largest gap (pixels) between two boxes that are ``next to`` each other."""
    return NEAR_FRACTION * min(width, height)


def relation(subject: SceneObject, obj: SceneObject, *, min_sep: float) -> Optional[str]:
    """The directional predicate that holds for ``subject`` relative to ``obj``, if any.

    The dominant axis of the centre offset decides: ``'left of'`` means the subject's centre
    is left of the object's by at least ``min_sep`` px and by ``DOMINANCE_RATIO`` times the
    vertical offset. Image y grows downwards, so ``'above'`` means a smaller centre y.

    Returns:
        One of :data:`DIRECTIONAL_PREDICATES`, or None for near or diagonal pairs.
    """
    (sx, sy), (ox, oy) = subject.centre_xy, obj.centre_xy
    dx, dy = sx - ox, sy - oy
    if abs(dx) >= min_sep and abs(dx) >= DOMINANCE_RATIO * abs(dy):
        return 'left of' if dx < 0 else 'right of'
    if abs(dy) >= min_sep and abs(dy) >= DOMINANCE_RATIO * abs(dx):
        return 'above' if dy < 0 else 'below'
    return None


def is_next_to(a: SceneObject, b: SceneObject, *, near_px: float) -> bool:
    """Whether the gap between the two boxes (0 if they overlap) is at most ``near_px``."""
    ax1, ay1, ax2, ay2 = a.box_xyxy
    bx1, by1, bx2, by2 = b.box_xyxy
    gap_x = max(0, max(ax1, bx1) - min(ax2, bx2))
    gap_y = max(0, max(ay1, by1) - min(ay2, by2))
    return max(gap_x, gap_y) <= near_px


def pairwise_relations(scene: Scene) -> List[Tuple[int, str, int]]:
    """Relations between object pairs ``i < j`` (subject i, object j), in index order.

    A pair gets its directional predicate if any, and also ``'next to'`` if close.
    """
    min_sep = min_separation_px(scene.width, scene.height)
    near_px = near_threshold_px(scene.width, scene.height)
    triples = []
    for i, a in enumerate(scene.objects):
        for j in range(i + 1, len(scene.objects)):
            b = scene.objects[j]
            predicate = relation(a, b, min_sep=min_sep)
            if predicate is not None:
                triples.append((i, predicate, j))
            if is_next_to(a, b, near_px=near_px):
                triples.append((i, NEXT_TO, j))
    return triples
