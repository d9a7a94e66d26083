from .formatting import PackGroundingInputs
from .loading import LoadGroundingAnnotations

__all__ = ['PackGroundingInputs', 'LoadGroundingAnnotations']
