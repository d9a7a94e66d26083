from .heatmap_visualization_hook import HeatmapVisualizationHook
from .loss_weight_staircase_hook import LossWeightStaircaseHook, staircase_weight

__all__ = ['HeatmapVisualizationHook', 'LossWeightStaircaseHook', 'staircase_weight']
