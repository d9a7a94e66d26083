from .albef import ALBEFGrounder
from .base import BaseGrounder
from .baselines import CentreBaselineGrounder, DetectorScoreBaselineGrounder, RandomBaselineGrounder
from .camwsvg import CAMWSVGGrounder
from .ckd import CKDGrounder
from .infoground import InfoGroundGrounder
from .reir import ReIRGrounder
from .selfeq import SelfEQGrounder

__all__ = [
    'ALBEFGrounder', 'BaseGrounder', 'CAMWSVGGrounder', 'CKDGrounder', 'CentreBaselineGrounder',
    'DetectorScoreBaselineGrounder', 'InfoGroundGrounder', 'RandomBaselineGrounder',
    'SelfEQGrounder', 'ReIRGrounder'
]
