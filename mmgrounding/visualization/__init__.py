import mmdet.visualization  # noqa: F401

from .grounding_visualizer import GroundingVisualizer
from .heatmaps import overlay_heatmap, spotlight_heatmap
from .outcomes import PhraseOutcome, phrase_outcomes

__all__ = [
    'GroundingVisualizer',
    'PhraseOutcome',
    'overlay_heatmap',
    'phrase_outcomes',
    'spotlight_heatmap',
]
