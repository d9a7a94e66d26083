"""What a figure shows of each phrase's prediction: its point, where the point came from, hit
or miss under a pointing protocol, and the top box."""

from dataclasses import dataclass
from typing import Optional

import numpy as np

from mmgrounding.evaluation.functional import PointingProtocol, protocol_hits, protocol_points
from mmgrounding.evaluation.metrics.utils import gt_boxes_and_index
from mmgrounding.structures import GroundingDataSample

# RGB colours of the status strip (and the predicted point); a test reads them back.
HIT_COLOUR = (0, 160, 0)  # the predicted point and the status strip when the point hits
MISS_COLOUR = (220, 0, 0)  # ... when it misses
NO_BOX_COLOUR = (110, 110, 110)  # ... when the phrase has no ground-truth box


@dataclass(frozen=True)
class PhraseOutcome:
    """What the figure shows of one phrase's prediction.

    Attributes:
        point: (x, y) predicted point in original image pixels, or None without a prediction.
        source: 'heatmap peak' or 'top box centre' (how the point was found), or ''.
        hit: whether the point lies in a ground-truth box of the phrase; None when the phrase
            has no box or there is no prediction.
        top_box: (4,) xyxy top-ranked box, or None.
    """

    point: Optional[tuple[float, float]]
    source: str
    hit: Optional[bool]
    top_box: Optional[np.ndarray]

    @property
    def status(self) -> str:
        if self.point is None:
            return 'no prediction'
        if self.hit is None:
            return f'no ground-truth box ({self.source})'
        return f'{"HIT" if self.hit else "MISS"} ({self.source})'

    @property
    def colour(self) -> tuple[int, int, int]:
        if self.hit is None:
            return NO_BOX_COLOUR
        return HIT_COLOUR if self.hit else MISS_COLOUR


# how each point rule of the pointing protocols is named in a panel's status strip
POINT_SOURCES = {
    'heatmap_cell': 'heatmap peak',
    'heatmap_upsampled': 'upsampled heatmap peak',
    'box_centre': 'top box centre',
}


def phrase_outcomes(
    sample: GroundingDataSample,
    *,
    protocol: str | PointingProtocol = 'grid',
    box_convention: str = 'continuous',
    official_boxes: Optional[bool] = None,
) -> list[PhraseOutcome]:
    """The point, its source, hit and top box of every phrase, as the pointing game finds
    them under ``protocol`` (:class:`~mmgrounding.evaluation.PointingGameMetric` with that
    protocol, ``source='auto'``, no tolerance; ``'grid'``: the heatmap peak when the sample
    has heatmaps, else the centre of the top-ranked box).

    ``box_convention`` (how the ground truth was loaded, the dataset's
    ``METAINFO['box_convention']``) and ``official_boxes`` are
    :func:`~mmgrounding.evaluation.functional.protocol_hits`'; they decide whether a hit is
    tested against the official code's boxes (Flickr30k: one pixel smaller on the right and
    bottom), as the metric does for the named official protocols."""
    num = sample.num_phrases
    hw = tuple(sample.metainfo['ori_shape'][:2])
    top_boxes = None
    if 'pred_boxes' in sample and sample.pred_boxes.shape[1] > 0:
        top_boxes = sample.pred_boxes[:, 0].detach().float().cpu()  # (P, 4)
    heatmaps = None
    if 'pred_heatmaps' in sample:
        heatmaps = sample.pred_heatmaps.detach().float().cpu()
    try:
        points, point = protocol_points(protocol, hw, heatmaps=heatmaps, top_boxes_xyxy=top_boxes)
    except ValueError:  # the protocol's prediction is missing: nothing to point with
        return [PhraseOutcome(None, '', None, None) for _ in range(num)]
    boxes, index = gt_boxes_and_index(sample)
    hits = protocol_hits(
        protocol,
        points,
        boxes,
        index,
        box_convention=box_convention,
        official_boxes=official_boxes,
    )
    has_box = [bool((index == p).any()) for p in range(num)]
    return [
        PhraseOutcome(
            (float(points[p, 0]), float(points[p, 1])),
            POINT_SOURCES[point],
            bool(hits[p]) if has_box[p] else None,
            None if top_boxes is None else top_boxes[p].numpy(),
        )
        for p in range(num)
    ]
