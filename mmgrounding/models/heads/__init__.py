from .embedding_branch import EmbeddingBranch
from .region_phrase_scores import image_sentence_scores, region_phrase_scores

__all__ = ['EmbeddingBranch', 'image_sentence_scores', 'region_phrase_scores']
