from .albef_fusion import ALBEFFusionEncoder, FusionLayer, MultiHeadAttention

__all__ = ['ALBEFFusionEncoder', 'FusionLayer', 'MultiHeadAttention']
