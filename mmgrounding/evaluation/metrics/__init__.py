from .box_recall import BoxRecallMetric
from .pointing_game import PointingGameMetric
from .reir_box_metric import ReIRBoxMetric

__all__ = ['BoxRecallMetric', 'PointingGameMetric', 'ReIRBoxMetric']
