from .vit import VisionTransformer, interpolate_pos_embed

__all__ = ['VisionTransformer', 'interpolate_pos_embed']
