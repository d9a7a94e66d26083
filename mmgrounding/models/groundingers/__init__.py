from .base import BaseGrounder
from .baselines import CentreBaselineGrounder, RandomBaselineGrounder

__all__ = ['BaseGrounder', 'CentreBaselineGrounder', 'RandomBaselineGrounder']
