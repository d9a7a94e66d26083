from .box_recall import BoxRecallMetric
from .pointing_game import PointingGameMetric

__all__ = ['BoxRecallMetric', 'PointingGameMetric']
