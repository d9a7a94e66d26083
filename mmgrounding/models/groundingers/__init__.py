from .albef import ALBEFGrounder
from .base import BaseGrounder
from .baselines import CentreBaselineGrounder, RandomBaselineGrounder

__all__ = ['ALBEFGrounder', 'BaseGrounder', 'CentreBaselineGrounder', 'RandomBaselineGrounder']
