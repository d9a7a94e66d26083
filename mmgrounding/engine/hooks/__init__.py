from .exact_resume_hook import ExactResumeHook
from .heatmap_visualization_hook import HeatmapVisualizationHook
from .loss_weight_staircase_hook import LossWeightStaircaseHook, staircase_weight
from .non_finite_loss_hook import NonFiniteLossError, NonFiniteLossHook
from .progress_report_hook import ProgressReportHook

__all__ = [
    'HeatmapVisualizationHook', 'LossWeightStaircaseHook', 'ProgressReportHook', 'staircase_weight',
    'ExactResumeHook', 'NonFiniteLossHook', 'NonFiniteLossError'
]
