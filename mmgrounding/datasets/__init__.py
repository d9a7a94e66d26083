# mmdet's datasets and transforms (Resize, RandomFlip, ...) register when ours do: configs
# in the mmgrounding scope name them without a prefix.
import mmdet.datasets  # noqa: F401

from .captions import CocoCaptionsDataset, Flickr30kCaptionsDataset
from .flickr30k_entities import Flickr30kEntitiesDataset
from .refcoco import RefCOCODataset
from .referit import ReferItBerkeleyDataset, ReferItGameDataset
from .region_cache import RegionCache, RegionCacheError
from .region_feature_stats import region_feature_stats
from .transforms import *  # noqa: F401,F403
from .utils import GroundingAnnotationError
from .vg_triplets import VisualGenomeTripletDataset
from .word_feature_cache import WordFeatureCache, WordFeatureCacheError

__all__ = [
    'Flickr30kEntitiesDataset', 'GroundingAnnotationError', 'RefCOCODataset',
    'ReferItBerkeleyDataset', 'ReferItGameDataset', 'CocoCaptionsDataset',
    'Flickr30kCaptionsDataset', 'VisualGenomeTripletDataset', 'RegionCache', 'RegionCacheError',
    'region_feature_stats', 'WordFeatureCache', 'WordFeatureCacheError'
]
