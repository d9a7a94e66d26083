from .albef_fusion import ALBEFFusionEncoder, FusionLayer, MultiHeadAttention
from .reg_token_fusion import RegTokenFusion
from .visual_object_graph import VisualObjectGraph, graph_update
from .word_region_attention import WordRegionAttention, phrase_region_scores

__all__ = [
    'RegTokenFusion',
    'ALBEFFusionEncoder', 'FusionLayer', 'MultiHeadAttention', 'WordRegionAttention',
    'phrase_region_scores', 'VisualObjectGraph', 'graph_update'
]
