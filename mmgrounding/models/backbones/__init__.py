from .frozen_c4_roi_extractor import FrozenC4RoIExtractor
from .vit import VisionTransformer, interpolate_pos_embed

__all__ = ['FrozenC4RoIExtractor', 'VisionTransformer', 'interpolate_pos_embed']
