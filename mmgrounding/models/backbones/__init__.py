from .cam_classifier import CAMClassifier
from .cam_encoder import CAMEncoder
from .frozen_c4_roi_extractor import FrozenC4RoIExtractor
from .multi_level_visual_encoder import MultiLevelVisualEncoder
from .vit import VisionTransformer, interpolate_pos_embed

__all__ = [
    'CAMClassifier', 'CAMEncoder', 'FrozenC4RoIExtractor', 'MultiLevelVisualEncoder',
    'VisionTransformer', 'interpolate_pos_embed'
]
