from .augment import GroundingColorJitter, RandomFlipWithText
from .formatting import PackGroundingInputs
from .loading import LoadGroundingAnnotations

__all__ = [
    'PackGroundingInputs', 'LoadGroundingAnnotations', 'RandomFlipWithText',
    'GroundingColorJitter'
]
