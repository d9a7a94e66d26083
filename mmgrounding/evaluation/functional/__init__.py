from .box_recall import box_recall_hits, union_box
from .pointing import (
    POINTING_PROTOCOLS,
    PointingProtocol,
    box_centres,
    heatmap_peaks,
    pointing_hits,
    pointing_protocol,
    protocol_hits,
    protocol_pointing_hits,
    protocol_points,
    union_boxes_per_phrase,
    upsampled_heatmap_peaks,
)

__all__ = [
    'box_recall_hits',
    'union_box',
    'box_centres',
    'heatmap_peaks',
    'pointing_hits',
    'POINTING_PROTOCOLS',
    'PointingProtocol',
    'pointing_protocol',
    'protocol_hits',
    'protocol_pointing_hits',
    'protocol_points',
    'union_boxes_per_phrase',
    'upsampled_heatmap_peaks',
]
