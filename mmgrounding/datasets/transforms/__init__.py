from .augment import GroundingColorJitter, RandomFlipWithText
from .formatting import PackGroundingInputs
from .loading import LoadGroundingAnnotations
from .negatives import LoadCaptionNegatives, LoadWordFeatures
from .paraphrases import LoadParaphrases
from .region_features import LoadRegionFeatures
from .teacher_class_probs import LoadTeacherClassProbs

__all__ = [
    'PackGroundingInputs', 'LoadGroundingAnnotations', 'RandomFlipWithText',
    'GroundingColorJitter', 'LoadRegionFeatures', 'LoadCaptionNegatives', 'LoadWordFeatures',
    'LoadParaphrases', 'LoadTeacherClassProbs'
]
