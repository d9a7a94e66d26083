"""What a SynthGround object can look like: categories, colours, sizes and shape outlines.

Every category has an outline in the unit square (touching all four sides) and a box aspect
ratio w/h; :class:`~.scene.SceneObject` scales the outline to its box and the renderer fills
it.
"""

from __future__ import annotations

import math
from typing import Dict, Sequence, Tuple

import numpy as np

CATEGORIES: Tuple[str, ...] = (
    'circle',
    'oval',
    'heart',
    'square',
    'triangle',
    'diamond',
    'hexagon',
    'star',
    'cross',
)
# Coarse Flickr30k-style phrase type of every category (the ``<type>`` in ``[/EN#id/<type>``).
PHRASE_TYPES: Tuple[str, ...] = ('round', 'angular', 'symbol')
PHRASE_TYPE_OF_CATEGORY: Dict[str, str] = {
    'circle': 'round',
    'oval': 'round',
    'heart': 'round',
    'square': 'angular',
    'triangle': 'angular',
    'diamond': 'angular',
    'hexagon': 'angular',
    'star': 'symbol',
    'cross': 'symbol',
}
# Vivid fill colours (RGB); the backgrounds are muted mid-tones, so every fill stands out.
COLOURS: Dict[str, Tuple[int, int, int]] = {
    'red': (220, 30, 35),
    'green': (40, 175, 60),
    'blue': (35, 85, 225),
    'yellow': (250, 215, 25),
    'purple': (145, 55, 195),
    'orange': (250, 135, 15),
}
SIZES: Tuple[str, ...] = ('small', 'large')


def _unit_polygons() -> Tuple[Dict[str, Tuple[Tuple[float, float], ...]], Dict[str, float]]:
    """Outline of every category in the unit square (touching all four sides) + aspect w/h."""

    def ring(count: int, start_deg: float, radii: Sequence[float] = (1.0,)) -> list:
        return [
            (
                radii[k % len(radii)] * math.cos(math.radians(start_deg + 360.0 * k / count)),
                radii[k % len(radii)] * math.sin(math.radians(start_deg + 360.0 * k / count)),
            )
            for k in range(count)
        ]

    heart = []
    for k in range(48):
        t = 2.0 * math.pi * k / 48
        heart.append(
            (
                16 * math.sin(t) ** 3,
                -(13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)),
            )
        )
    arm = 0.18  # half width of a cross arm, in units of the full width
    cross = [
        (-arm, -0.5),
        (arm, -0.5),
        (arm, -arm),
        (0.5, -arm),
        (0.5, arm),
        (arm, arm),
        (arm, 0.5),
        (-arm, 0.5),
        (-arm, arm),
        (-0.5, arm),
        (-0.5, -arm),
        (-arm, -arm),
    ]
    natural = {
        'circle': ring(32, 0.0),
        'oval': ring(32, 0.0),
        'heart': heart,
        'square': [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)],
        'triangle': ring(3, -90.0),
        'diamond': ring(4, -90.0),
        'hexagon': ring(6, 0.0),
        'star': ring(10, -90.0, radii=(1.0, 0.42)),
        'cross': cross,
    }
    aspect_override = {'oval': 1.5, 'diamond': 0.75}
    polygons, aspects = {}, {}
    for category in CATEGORIES:
        pts = np.asarray(natural[category], dtype=np.float64)  # (V, 2)
        lo, span = pts.min(axis=0), np.ptp(pts, axis=0)
        polygons[category] = tuple((float(u), float(v)) for u, v in (pts - lo) / span)
        aspects[category] = aspect_override.get(category, float(span[0] / span[1]))
    return polygons, aspects


# Per category: outline vertices (u, v) in [0, 1]^2, and the box aspect ratio w / h.
UNIT_POLYGONS, ASPECT_WH = _unit_polygons()
