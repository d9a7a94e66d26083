from .albef_fusion import ALBEFFusionEncoder, FusionLayer, MultiHeadAttention
from .word_region_attention import WordRegionAttention, phrase_region_scores

__all__ = [
    'ALBEFFusionEncoder', 'FusionLayer', 'MultiHeadAttention', 'WordRegionAttention',
    'phrase_region_scores'
]
