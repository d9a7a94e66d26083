"""Pointing game: does the predicted point fall inside a ground-truth box of its phrase?

Three papers' protocols and our own grid protocol are named in :data:`POINTING_PROTOCOLS`;
each is a combination of how the point is found, which boxes it is tested against and whether
a point on a box border counts (see docs/metrics.md).
"""

from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .box_recall import union_box


@dataclass(frozen=True)
class PointingProtocol:
    """How one pointing-game protocol finds the point and decides a hit.

    Attributes:
        point: ``'heatmap_cell'`` (centre of the maximal cell of the map's own grid),
            ``'heatmap_upsampled'`` (the map upsampled bicubically to the image size, the
            integer pixel index of its first maximum), ``'box_centre'`` (the centre of the
            top-ranked box) or ``'auto'`` (``'heatmap_cell'`` when the sample has a heatmap,
            else ``'box_centre'``).
        gt: ``'any'`` (any ground-truth box of the phrase) or ``'union'`` (the smallest box
            enclosing them all).
        strict: a point on a box border misses (``x1 < x < x2``) instead of hitting.

    Whether the ground truth is first turned into the official code's boxes is not a field
    here but a property of the named protocols (:data:`OFFICIAL_BOX_PROTOCOLS`), so that the
    protocol records of earlier evaluations stay comparable.
    """

    point: str
    gt: str
    strict: bool


# How a dataset's continuous ``[x1, y1, x2, y2]`` boxes were made from its annotation files
# (the dataset's ``METAINFO['box_convention']``):
# - 'continuous': the file holds continuous boxes (COCO / REFER ``[x, y, w, h]`` -> ``[x, y,
#   x + w, y + h]``, VG ``x, y, w, h``, SynthGround's COCO-format files);
# - 'pixel_inclusive_1based': the file holds 1-based inclusive pixel indices ``xmin..xmax``
#   (Flickr30k Entities' Annotations/*.xml), loaded as ``[xmin - 1, ymin - 1, xmax, ymax]``.
#   The official Flickr30k code (BryanPlummer/flickr30k_entities flickr30k_entities_utils.py
#   get_annotations, copied by BigRedT/info-ground data/flickr/) subtracts 1 from all four.
BOX_CONVENTIONS = ('continuous', 'pixel_inclusive_1based')

# The named protocols that test against the ground truth as the official code stores it
# (:func:`official_gt_boxes`): for boxes from 1-based inclusive pixel indices (Flickr30k
# Entities' XML) that is ``get_annotations``' 0-based inclusive ``[xmin - 1, ymin - 1,
# xmax - 1, ymax - 1]``, our continuous box with ``x2`` and ``y2`` one pixel smaller; boxes
# from continuous annotations (COCO / REFER ``[x, y, w, h]``) are tested as they are.
OFFICIAL_BOX_PROTOCOLS = ('amc_official', 'infoground', 'reir')


def official_gt_boxes(boxes_xyxy: Tensor, box_convention: str) -> Tensor:
    """Our continuous ground-truth boxes as the official evaluation code stores them.

    Args:
        boxes_xyxy: (K, 4) continuous boxes as our loaders give them.
        box_convention: a key of :data:`BOX_CONVENTIONS`, how the boxes were loaded.

    Returns:
        (K, 4): unchanged for ``'continuous'``; ``x2 - 1, y2 - 1`` for
        ``'pixel_inclusive_1based'`` (``get_annotations``' ``xmax - 1``, ``ymax - 1``).
    """
    if box_convention not in BOX_CONVENTIONS:
        raise ValueError(f'box_convention must be one of {BOX_CONVENTIONS}, got {box_convention!r}')
    if box_convention == 'continuous' or boxes_xyxy.numel() == 0:
        return boxes_xyxy
    return torch.cat([boxes_xyxy[:, :2], boxes_xyxy[:, 2:] - 1], dim=1)


POINTING_PROTOCOLS = {
    # ours: argmax on the raw patch grid (or the top box's centre), borders included
    'grid': PointingProtocol(point='auto', gt='any', strict=False),
    # uvavision/AMC-grounding dataset/utils.py grounding_eval(_flickr): F.interpolate(...,
    # mode='bicubic') to (H, W), (mask == mask.max()).nonzero()[0], x1 < x < x2 and y1 < y < y2
    # against the REFER [x, y, w, h] box or (Flickr30k) the phrase_boxes json, whose layout is
    # get_annotations' (0-based inclusive; interpretation: the json is not in the repository)
    'amc_official': PointingProtocol(point='heatmap_upsampled', gt='any', strict=True),
    # BigRedT/info-ground exp/ground/eval_flickr_phrase_loc.py compute_pt_acc: the centre of
    # the top box, utils/bbox_utils.py point_in_box (strict) against each ground-truth box of
    # data/flickr/write_annos_to_json.py (get_annotations: 0-based inclusive)
    'infoground': PointingProtocol(point='box_centre', gt='any', strict=True),
    # ReIR (Liu et al., CVPR 2021), youngfly11/ReIR-WeaklyGrounding.pytorch
    # detectron2/evaluation/flickr30k_evaluation_grounding.py: the centre of the predicted box
    # inside (<=, >=) the union box (detectron2/data/datasets/flickr30k.py merge_gt_boxes) of
    # box_anno.json's boxes, whose layout is get_annotations' (0-based inclusive)
    'reir': PointingProtocol(point='box_centre', gt='union', strict=False),
}


def pointing_protocol(name: str) -> PointingProtocol:
    """The protocol registered under ``name`` in :data:`POINTING_PROTOCOLS`."""
    if name not in POINTING_PROTOCOLS:
        raise ValueError(
            f'pointing protocol must be one of {tuple(POINTING_PROTOCOLS)}, got {name!r}'
        )
    return POINTING_PROTOCOLS[name]


def _check_finite(flat: Tensor) -> None:
    if torch.isnan(flat).any():
        raise ValueError('heatmap contains NaN')


def heatmap_peaks(heatmaps: Tensor, image_hw: tuple[int, int]) -> Tensor:
    """Pixel coordinates of each heatmap's maximum on the heatmap's own grid.

    The heatmap grid spans the whole image, so cell (i, j) of an (h, w) grid covers pixels
    ``[j * W / w, (j + 1) * W / w)`` horizontally; its centre is the reported point. Ties go to
    the first maximum in row-major order.

    Args:
        heatmaps: (P, h, w) maps.
        image_hw: (H, W) image size in pixels.

    Returns:
        (P, 2) points as (x, y) pixels.
    """
    num, h, w = heatmaps.shape
    if num == 0:
        return heatmaps.new_zeros((0, 2))
    flat = heatmaps.reshape(num, h * w)  # (P, h*w)
    _check_finite(flat)
    index = flat.argmax(dim=1)
    rows = torch.div(index, w, rounding_mode='floor')
    cols = index % w
    height, width = image_hw
    x = (cols.float() + 0.5) * (width / w)
    y = (rows.float() + 0.5) * (height / h)
    return torch.stack([x, y], dim=1)


def upsampled_heatmap_peaks(heatmaps: Tensor, image_hw: tuple[int, int]) -> Tensor:
    """The peak of each heatmap after bicubic upsampling to the image size (AMC/ALBEF).

    As the official AMC evaluation: the (h, w) map, which spans the whole image, is resized
    with ``F.interpolate(mode='bicubic', align_corners=False)`` to (H, W) and the point is the
    integer (column, row) index of its first maximum in row-major order. Phrases are
    upsampled one at a time, so memory stays at one H×W map.

    Args:
        heatmaps: (P, h, w) maps.
        image_hw: (H, W) image size in pixels.

    Returns:
        (P, 2) points as (x, y) = (column, row) pixel indices, float.
    """
    num, h, w = heatmaps.shape
    if num == 0:
        return heatmaps.new_zeros((0, 2))
    _check_finite(heatmaps.reshape(num, h * w))
    height, width = (int(v) for v in image_hw)
    points = []
    for heatmap in heatmaps.float():
        up = F.interpolate(
            heatmap[None, None], size=(height, width), mode='bicubic', align_corners=False
        )[0, 0]  # (H, W)
        index = int(up.reshape(-1).argmax())  # torch.argmax returns the first maximum
        points.append((index % width, index // width))
    return torch.tensor(points, dtype=torch.float32, device=heatmaps.device)


def box_centres(boxes_xyxy: Tensor) -> Tensor:
    """(P, 4) xyxy boxes -> (P, 2) centres (x, y)."""
    return torch.stack(
        [(boxes_xyxy[:, 0] + boxes_xyxy[:, 2]) / 2, (boxes_xyxy[:, 1] + boxes_xyxy[:, 3]) / 2],
        dim=1,
    )


def union_boxes_per_phrase(
    boxes_xyxy: Tensor, box_phrase_index: Tensor, num_phrases: int
) -> tuple[Tensor, Tensor]:
    """One union box per phrase that has boxes.

    Args:
        boxes_xyxy: (K, 4) ground-truth boxes of all phrases.
        box_phrase_index: (K,) the phrase each box belongs to.
        num_phrases: P.

    Returns:
        (P', 4) the union box of each phrase with at least one box and (P',) its phrase index.
    """
    owners = [p for p in range(num_phrases) if bool((box_phrase_index == p).any())]
    if not owners:
        return boxes_xyxy.new_zeros((0, 4)), box_phrase_index.new_zeros(0)
    unions = [union_box(boxes_xyxy[box_phrase_index == p]) for p in owners]  # P' x (4,)
    return torch.stack(unions), torch.tensor(
        owners, dtype=torch.long, device=box_phrase_index.device
    )


def pointing_hits(
    points: Tensor,
    boxes_xyxy: Tensor,
    box_phrase_index: Tensor,
    *,
    tolerance: float = 0.0,
    strict: bool = False,
) -> Tensor:
    """Whether each phrase's point lies inside any of that phrase's ground-truth boxes.

    Args:
        points: (P, 2) predicted (x, y) per phrase.
        boxes_xyxy: (K, 4) ground-truth boxes of all phrases.
        box_phrase_index: (K,) the phrase (row of ``points``) each box belongs to.
        tolerance: pixels a point may lie outside a box and still count (the pointing game
            of Zhang et al. uses 15; weakly supervised grounding papers use 0).
        strict: a point on the (enlarged) border misses: ``x1 < x < x2`` and ``y1 < y < y2``
            (the AMC and InfoGround official code) instead of ``x1 <= x <= x2``.

    Returns:
        (P,) bool. A phrase without boxes never hits.
    """
    num_phrases = points.shape[0]
    if boxes_xyxy.numel() == 0 or num_phrases == 0:
        return torch.zeros(num_phrases, dtype=torch.bool, device=points.device)
    pts = points[box_phrase_index]  # (K, 2): the point of each box's phrase
    lo = boxes_xyxy[:, :2] - tolerance  # (K, 2)
    hi = boxes_xyxy[:, 2:] + tolerance  # (K, 2)
    if strict:
        inside = ((pts > lo) & (pts < hi)).all(dim=1)  # (K,)
    else:
        inside = ((pts >= lo) & (pts <= hi)).all(dim=1)  # (K,)
    hits = torch.zeros(num_phrases, dtype=torch.bool, device=points.device)
    hits[box_phrase_index[inside]] = True
    return hits


def _spec(protocol: str | PointingProtocol) -> PointingProtocol:
    return protocol if isinstance(protocol, PointingProtocol) else pointing_protocol(protocol)


def protocol_points(
    protocol: str | PointingProtocol,
    image_hw: tuple[int, int],
    *,
    heatmaps: Optional[Tensor] = None,
    top_boxes_xyxy: Optional[Tensor] = None,
) -> tuple[Tensor, str]:
    """The predicted point of each phrase of one image under a protocol.

    Args:
        protocol: a key of :data:`POINTING_PROTOCOLS` or a :class:`PointingProtocol`.
        image_hw: (H, W) original image size.
        heatmaps: (P, h, w) maps spanning the whole image, or None.
        top_boxes_xyxy: (P, 4) the top-ranked box of each phrase, or None.

    Returns:
        (P, 2) points (x, y) in original image pixels and the point rule used
        (``PointingProtocol.point`` with ``'auto'`` resolved).

    Raises:
        ValueError: the protocol needs a prediction that is not given.
    """
    spec = _spec(protocol)
    point = spec.point
    if point == 'auto':
        point = 'heatmap_cell' if heatmaps is not None else 'box_centre'
    if point.startswith('heatmap'):
        if heatmaps is None:
            raise ValueError(f'pointing protocol {protocol!r} needs heatmaps')
        find = heatmap_peaks if point == 'heatmap_cell' else upsampled_heatmap_peaks
        return find(heatmaps, image_hw), point
    if top_boxes_xyxy is None:
        raise ValueError(f'pointing protocol {protocol!r} needs ranked boxes')
    return box_centres(top_boxes_xyxy), point


def protocol_hits(
    protocol: str | PointingProtocol,
    points: Tensor,
    gt_boxes_xyxy: Tensor,
    box_phrase_index: Tensor,
    *,
    tolerance: float = 0.0,
    box_convention: str = 'continuous',
    official_boxes: Optional[bool] = None,
) -> Tensor:
    """Whether each phrase's point hits its ground truth under a protocol's box and border
    rules (``gt``, ``strict``; the official boxes of :data:`OFFICIAL_BOX_PROTOCOLS`).

    Args:
        protocol: a key of :data:`POINTING_PROTOCOLS` or a :class:`PointingProtocol`.
        points: (P, 2) points (:func:`protocol_points`).
        gt_boxes_xyxy: (K, 4) ground-truth boxes in original image pixels.
        box_phrase_index: (K,) the phrase each box belongs to.
        tolerance: pixels a point may lie outside a box and still hit.
        box_convention: how ``gt_boxes_xyxy`` were loaded (:data:`BOX_CONVENTIONS`).
        official_boxes: test against :func:`official_gt_boxes`; None: when ``protocol`` is
            the name of one of :data:`OFFICIAL_BOX_PROTOCOLS`.

    Returns:
        (P,) bool.
    """
    spec = _spec(protocol)
    if official_boxes is None:
        official_boxes = isinstance(protocol, str) and protocol in OFFICIAL_BOX_PROTOCOLS
    if official_boxes:
        gt_boxes_xyxy = official_gt_boxes(gt_boxes_xyxy, box_convention)
    if spec.gt == 'union':
        gt_boxes_xyxy, box_phrase_index = union_boxes_per_phrase(
            gt_boxes_xyxy, box_phrase_index, points.shape[0]
        )
    return pointing_hits(
        points, gt_boxes_xyxy, box_phrase_index, tolerance=tolerance, strict=spec.strict
    )


def protocol_pointing_hits(
    protocol: str | PointingProtocol,
    gt_boxes_xyxy: Tensor,
    box_phrase_index: Tensor,
    image_hw: tuple[int, int],
    *,
    heatmaps: Optional[Tensor] = None,
    top_boxes_xyxy: Optional[Tensor] = None,
    tolerance: float = 0.0,
    box_convention: str = 'continuous',
    official_boxes: Optional[bool] = None,
) -> Tensor:
    """The pointing-game hits of one image's phrases under a named protocol:
    :func:`protocol_points`, then :func:`protocol_hits`.

    Args:
        protocol: a key of :data:`POINTING_PROTOCOLS` or a :class:`PointingProtocol`.
        gt_boxes_xyxy: (K, 4) ground-truth boxes in original image pixels.
        box_phrase_index: (K,) the phrase each box belongs to.
        image_hw: (H, W) original image size.
        heatmaps: (P, h, w) maps spanning the whole image, or None.
        top_boxes_xyxy: (P, 4) the top-ranked box of each phrase, or None.
        tolerance: pixels a point may lie outside a box and still hit.
        box_convention: how ``gt_boxes_xyxy`` were loaded (:data:`BOX_CONVENTIONS`).
        official_boxes: as in :func:`protocol_hits`.

    Returns:
        (P,) bool.

    Raises:
        ValueError: the protocol needs a prediction that is not given.
    """
    points, _ = protocol_points(
        protocol, image_hw, heatmaps=heatmaps, top_boxes_xyxy=top_boxes_xyxy
    )
    return protocol_hits(
        protocol,
        points,
        gt_boxes_xyxy,
        box_phrase_index,
        tolerance=tolerance,
        box_convention=box_convention,
        official_boxes=official_boxes,
    )
