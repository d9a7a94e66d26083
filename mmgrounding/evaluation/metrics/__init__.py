from .box_errors import BoxErrorMetric
from .box_recall import BoxRecallMetric
from .cam_coverage import CAMCoverageMetric
from .pointing_game import PointingGameMetric
from .reir_box_metric import ReIRBoxMetric

__all__ = [
    'BoxErrorMetric',
    'BoxRecallMetric',
    'CAMCoverageMetric',
    'PointingGameMetric',
    'ReIRBoxMetric',
]
