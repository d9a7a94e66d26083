import mmdet.visualization  # noqa: F401

from .grounding_visualizer import GroundingVisualizer, overlay_heatmap, spotlight_heatmap

__all__ = ['GroundingVisualizer', 'overlay_heatmap', 'spotlight_heatmap']
