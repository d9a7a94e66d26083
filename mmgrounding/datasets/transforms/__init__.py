from .augment import GroundingColorJitter, RandomFlipWithText
from .formatting import PackGroundingInputs
from .loading import LoadGroundingAnnotations
from .negatives import LoadCaptionNegatives, LoadWordFeatures
from .region_features import LoadRegionFeatures

__all__ = [
    'PackGroundingInputs', 'LoadGroundingAnnotations', 'RandomFlipWithText',
    'GroundingColorJitter', 'LoadRegionFeatures', 'LoadCaptionNegatives', 'LoadWordFeatures'
]
