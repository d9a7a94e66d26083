from .albef import ALBEFGrounder
from .base import BaseGrounder
from .baselines import CentreBaselineGrounder, RandomBaselineGrounder
from .ckd import CKDGrounder

__all__ = [
    'ALBEFGrounder', 'BaseGrounder', 'CKDGrounder', 'CentreBaselineGrounder',
    'RandomBaselineGrounder'
]
