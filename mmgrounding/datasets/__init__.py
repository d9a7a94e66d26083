# mmdet's datasets and transforms (Resize, RandomFlip, ...) register when ours do: configs
# in the mmgrounding scope name them without a prefix.
import mmdet.datasets  # noqa: F401

from .flickr30k_entities import Flickr30kEntitiesDataset
from .transforms import *  # noqa: F401,F403
from .utils import GroundingAnnotationError

__all__ = ['Flickr30kEntitiesDataset', 'GroundingAnnotationError']
