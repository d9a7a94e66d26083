"""Scene sampling, spatial relations and rendering for SynthGround.

A scene is a textured, muted background with 2-6 vivid shapes on it. Boxes are integer XYXY
in continuous pixel coordinates: an object with ``box_xyxy = (x1, y1, x2, y2)`` covers pixel
columns ``x1 .. x2 - 1`` and rows ``y1 .. y2 - 1`` (0-based), so its COCO box is
``[x1, y1, x2 - x1, y2 - y1]`` and its Flickr30k box (1-based, inclusive) is
``(x1 + 1, y1 + 1, x2, y2)``. The box is tight around the drawn shape.

Everything random comes from the ``numpy.random.Generator`` passed in; rendering is a pure
function of the :class:`Scene`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

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
BACKGROUND_KINDS: Tuple[str, ...] = ('gradient', 'stripes', 'checkerboard', 'noise')
DEFAULT_IMAGE_SIZES_WH: Tuple[Tuple[int, int], ...] = (
    (160, 120),
    (128, 128),
    (120, 160),
    (192, 144),
    (144, 192),
)
# Longer box side of small / large objects on a 128 px image; scaled by min(W, H) / 128.
REFERENCE_SIDE_PX = 128
DEFAULT_SMALL_SIDE_PX: Tuple[int, int] = (14, 22)
DEFAULT_LARGE_SIDE_PX: Tuple[int, int] = (32, 48)
MIN_BOX_SIDE_PX = 8
# Spatial words need a centre offset of at least this fraction of min(W, H) ...
MIN_SEPARATION_FRACTION = 0.08
# ... on an axis that dominates the other by this ratio.
DOMINANCE_RATIO = 1.2
# "next to": the gap between two boxes is at most this fraction of min(W, H).
NEAR_FRACTION = 0.08
DIRECTIONAL_PREDICATES: Tuple[str, ...] = ('left of', 'right of', 'above', 'below')
NEXT_TO = 'next to'

_THEME_PROB = 0.6  # an object's category comes from the scene's theme type
_DUPLICATE_PROB = 0.25  # an object copies colour + category of an earlier one
_MAX_SAME_LOOK = 2  # at most two objects share colour + category
_SUPERSAMPLE = 4


@dataclass(frozen=True)
class SceneObject:
    """One shape: what it is and where it is.

    Attributes:
        category: one of :data:`CATEGORIES`.
        colour: one of :data:`COLOURS`.
        size: ``'small'`` or ``'large'``.
        box_xyxy: (x1, y1, x2, y2) integer pixel box, x2/y2 exclusive (see the module doc).
    """

    category: str
    colour: str
    size: str
    box_xyxy: Tuple[int, int, int, int]

    @property
    def phrase_type(self) -> str:
        return PHRASE_TYPE_OF_CATEGORY[self.category]

    @property
    def box_xywh(self) -> Tuple[int, int, int, int]:
        x1, y1, x2, y2 = self.box_xyxy
        return x1, y1, x2 - x1, y2 - y1

    @property
    def centre_xy(self) -> Tuple[float, float]:
        x1, y1, x2, y2 = self.box_xyxy
        return (x1 + x2) / 2.0, (y1 + y2) / 2.0

    def outline_xy(self) -> List[Tuple[float, float]]:
        """The drawn outline as a polygon in continuous pixel coordinates, tight to the box."""
        x1, y1, x2, y2 = self.box_xyxy
        w, h = x2 - x1, y2 - y1
        return [(x1 + u * w, y1 + v * h) for u, v in _UNIT_POLYGONS[self.category]]


@dataclass(frozen=True)
class Background:
    """A procedural background: its kind and the seed its pixels are drawn from."""

    kind: str
    seed: int


@dataclass(frozen=True)
class Scene:
    """An image's content. Objects are listed in drawing order (later ones on top)."""

    width: int
    height: int
    background: Background
    objects: Tuple[SceneObject, ...]


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


def sample_scene(
    rng: np.random.Generator,
    *,
    size_wh: Tuple[int, int],
    num_objects: int,
    small_side_px: Tuple[int, int] = DEFAULT_SMALL_SIDE_PX,
    large_side_px: Tuple[int, int] = DEFAULT_LARGE_SIDE_PX,
    min_visible: float = 0.6,
    max_tries: int = 30,
) -> Scene:
    """Sample a background and up to ``num_objects`` non-hiding objects.

    Each scene has a theme type (see :data:`PHRASE_TYPES`) that most of its categories come
    from, and some objects repeat the colour and category of an earlier one, so scenes have
    look-alikes that need spatial words. Placement is rejected (and retried up to
    ``max_tries`` times, then once more as a small object) when it would leave less than
    ``min_visible`` of an earlier box uncovered, or when it would put two objects of the same
    size, colour and category closer than the minimum separation on both axes. An object that
    cannot be placed is dropped, so a crowded scene may hold fewer objects than asked.

    Args:
        rng: the only source of randomness.
        size_wh: image (W, H) in pixels.
        num_objects: objects to place.
        small_side_px: (min, max) longer box side of small objects at 128 px scale.
        large_side_px: (min, max) longer box side of large objects at 128 px scale.
        min_visible: smallest uncovered fraction of every box.
        max_tries: placement attempts per object and size.

    Returns:
        The scene; its objects are in drawing order.
    """
    width, height = size_wh
    scale = min(width, height) / REFERENCE_SIDE_PX
    min_sep = min_separation_px(width, height)
    background = Background(
        kind=BACKGROUND_KINDS[int(rng.integers(len(BACKGROUND_KINDS)))],
        seed=int(rng.integers(2**62)),
    )
    theme = PHRASE_TYPES[int(rng.integers(len(PHRASE_TYPES)))]
    objects: List[SceneObject] = []
    covered: List[np.ndarray] = []  # per placed object: (h, w) bool, covered by later boxes
    for _ in range(num_objects):
        category, colour = _sample_look(rng, objects, theme)
        size = SIZES[int(rng.integers(len(SIZES)))]
        sizes_to_try = (size, 'small') if size == 'large' else (size,)
        placed = None
        for try_size in sizes_to_try:
            side_range = small_side_px if try_size == 'small' else large_side_px
            lo = max(MIN_BOX_SIDE_PX, round(side_range[0] * scale))
            hi = max(lo, round(side_range[1] * scale))
            for _ in range(max_tries):
                w, h = _box_wh(category, int(rng.integers(lo, hi + 1)))
                w, h = min(w, width), min(h, height)
                x1 = int(rng.integers(0, width - w + 1))
                y1 = int(rng.integers(0, height - h + 1))
                candidate = SceneObject(category, colour, try_size, (x1, y1, x1 + w, y1 + h))
                if _placement_ok(
                    candidate, objects, covered, min_visible=min_visible, min_sep=min_sep
                ):
                    placed = candidate
                    break
            if placed is not None:
                break
        if placed is None:
            continue
        for other, mask in zip(objects, covered):
            _cover(mask, other.box_xyxy, placed.box_xyxy)
        objects.append(placed)
        covered.append(
            np.zeros(
                (placed.box_xyxy[3] - placed.box_xyxy[1], placed.box_xyxy[2] - placed.box_xyxy[0]),
                dtype=bool,
            )
        )
    return Scene(width=width, height=height, background=background, objects=tuple(objects))


def _sample_look(
    rng: np.random.Generator, objects: Sequence[SceneObject], theme: str
) -> Tuple[str, str]:
    """Category and colour of the next object; at most two objects share both."""
    colours = tuple(COLOURS)
    themed = tuple(c for c in CATEGORIES if PHRASE_TYPE_OF_CATEGORY[c] == theme)
    for _ in range(20):
        if objects and rng.random() < _DUPLICATE_PROB:
            source = objects[int(rng.integers(len(objects)))]
            category, colour = source.category, source.colour
        else:
            pool = themed if rng.random() < _THEME_PROB else CATEGORIES
            category = pool[int(rng.integers(len(pool)))]
            colour = colours[int(rng.integers(len(colours)))]
        same = sum(o.category == category and o.colour == colour for o in objects)
        if same < _MAX_SAME_LOOK:
            return category, colour
    # Practically unreachable (54 looks, at most 5 placed objects): first unused look.
    used = {(o.category, o.colour) for o in objects}
    return next((c, k) for c in CATEGORIES for k in colours if (c, k) not in used)


def _box_wh(category: str, side: int) -> Tuple[int, int]:
    """Box (w, h) of a shape whose longer side is ``side`` px, keeping its aspect ratio."""
    aspect = _ASPECT_WH[category]
    if aspect >= 1.0:
        w, h = side, round(side / aspect)
    else:
        w, h = round(side * aspect), side
    return max(MIN_BOX_SIDE_PX, w), max(MIN_BOX_SIDE_PX, h)


def _intersection(
    a_xyxy: Sequence[int], b_xyxy: Sequence[int]
) -> Optional[Tuple[int, int, int, int]]:
    x1, y1 = max(a_xyxy[0], b_xyxy[0]), max(a_xyxy[1], b_xyxy[1])
    x2, y2 = min(a_xyxy[2], b_xyxy[2]), min(a_xyxy[3], b_xyxy[3])
    return (x1, y1, x2, y2) if x1 < x2 and y1 < y2 else None


def _cover(mask: np.ndarray, box_xyxy: Sequence[int], cover_xyxy: Sequence[int]) -> None:
    """Mark the part of ``box_xyxy`` under ``cover_xyxy`` in ``mask`` (h, w), in place."""
    inter = _intersection(box_xyxy, cover_xyxy)
    if inter is not None:
        x1, y1, x2, y2 = inter
        mask[y1 - box_xyxy[1] : y2 - box_xyxy[1], x1 - box_xyxy[0] : x2 - box_xyxy[0]] = True


def _placement_ok(
    candidate: SceneObject,
    objects: Sequence[SceneObject],
    covered: Sequence[np.ndarray],
    *,
    min_visible: float,
    min_sep: float,
) -> bool:
    cx, cy = candidate.centre_xy
    for other, mask in zip(objects, covered):
        if (other.category, other.colour, other.size) == (
            candidate.category,
            candidate.colour,
            candidate.size,
        ):
            ox, oy = other.centre_xy
            if abs(cx - ox) < min_sep and abs(cy - oy) < min_sep:
                return False  # indistinguishable twins: no spatial word could tell them apart
        if _intersection(other.box_xyxy, candidate.box_xyxy) is None:
            continue
        trial = mask.copy()
        _cover(trial, other.box_xyxy, candidate.box_xyxy)
        if 1.0 - trial.mean() < min_visible:
            return False
    return True


def render_background(background: Background, width: int, height: int) -> np.ndarray:
    """Muted textured background pixels.

    Returns:
        (H, W, 3) uint8 RGB.
    """
    rng = np.random.default_rng(background.seed)
    base = rng.uniform(85.0, 165.0)
    rgb0 = np.clip(base + rng.uniform(-22.0, 22.0, size=3), 60.0, 190.0).astype(np.float32)
    rgb1 = np.clip(rgb0 + rng.uniform(-40.0, 40.0, size=3), 55.0, 195.0).astype(np.float32)
    yy = np.arange(height, dtype=np.float32)[:, None]  # (H, 1)
    xx = np.arange(width, dtype=np.float32)[None, :]  # (1, W)
    kind = background.kind
    if kind == 'gradient':
        theta = rng.uniform(0.0, 2.0 * math.pi)
        proj = xx * math.cos(theta) + yy * math.sin(theta)  # (H, W)
        t = (proj - proj.min()) / max(float(np.ptp(proj)), 1e-6)
    elif kind == 'stripes':
        half_period = int(rng.integers(4, 11))
        theta = math.radians(45.0 * int(rng.integers(4)))
        proj = xx * math.cos(theta) + yy * math.sin(theta)
        t = np.floor(proj / half_period) % 2.0
    elif kind == 'checkerboard':
        cell = int(rng.integers(8, 25))
        t = (xx // cell + yy // cell) % 2.0  # (H, W)
    elif kind == 'noise':
        grid = rng.random((int(rng.integers(3, 7)), int(rng.integers(3, 7))))
        t = _upsample_bilinear(grid, height, width).astype(np.float32)
    else:
        raise ValueError(f'unknown background kind {kind!r}; expected one of {BACKGROUND_KINDS}')
    rgb = rgb0 + (rgb1 - rgb0) * t[..., None]  # (H, W, 3)
    rgb += 2.5 * rng.standard_normal(size=(height, width, 1), dtype=np.float32)  # grain
    # Colours stay within [55 - noise, 195 + noise]: no clipping needed before uint8.
    return np.rint(rgb).astype(np.uint8)


def _upsample_bilinear(grid: np.ndarray, height: int, width: int) -> np.ndarray:
    """Smoothly interpolate a (gh, gw) grid of values to (H, W)."""
    gh, gw = grid.shape
    ys = np.linspace(0.0, gh - 1.0, height)
    xs = np.linspace(0.0, gw - 1.0, width)
    y0 = np.minimum(np.floor(ys).astype(int), gh - 2)
    x0 = np.minimum(np.floor(xs).astype(int), gw - 2)
    fy, fx = ys - y0, xs - x0
    fy, fx = fy * fy * (3 - 2 * fy), fx * fx * (3 - 2 * fx)  # smoothstep
    top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x0 + 1] * fx  # (H, W)
    bottom = grid[y0 + 1][:, x0] * (1 - fx) + grid[y0 + 1][:, x0 + 1] * fx
    return top * (1 - fy)[:, None] + bottom * fy[:, None]


def render_scene(scene: Scene) -> Image.Image:
    """Draw the scene: background, then each object (anti-aliased, dark outline) in order.

    Returns:
        An RGB image of size (W, H).
    """
    canvas = render_background(scene.background, scene.width, scene.height).astype(np.float32)
    for obj in scene.objects:
        x1, y1, x2, y2 = obj.box_xyxy
        w, h = x2 - x1, y2 - y1
        points = [
            (u * w * _SUPERSAMPLE, v * h * _SUPERSAMPLE) for u, v in _UNIT_POLYGONS[obj.category]
        ]
        fill = Image.new('L', (w * _SUPERSAMPLE, h * _SUPERSAMPLE), 0)
        ImageDraw.Draw(fill).polygon(points, fill=255)
        edge = Image.new('L', fill.size, 0)
        ImageDraw.Draw(edge).polygon(points, outline=255, width=_SUPERSAMPLE)
        alpha = np.asarray(fill.resize((w, h), Image.BOX), dtype=np.float32)[..., None] / 255
        edge_alpha = np.asarray(edge.resize((w, h), Image.BOX), dtype=np.float32)[..., None]
        edge_alpha = np.minimum(edge_alpha / 255, alpha)  # (h, w, 1), inside the shape only
        colour = np.asarray(COLOURS[obj.colour], dtype=np.float32)
        region = canvas[y1:y2, x1:x2]  # (h, w, 3) view
        region[...] = region * (1 - alpha) + colour * alpha
        region[...] = region * (1 - edge_alpha) + 0.45 * colour * edge_alpha
    # Convex blends of values in [0, 255]: no clipping needed.
    return Image.fromarray(np.rint(canvas).astype(np.uint8), mode='RGB')


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


_UNIT_POLYGONS, _ASPECT_WH = _unit_polygons()
