from .embedding_branch import EmbeddingBranch
from .glove_label_prior import GloVeLabelPrior
from .label_prior import BaseLabelPrior
from .phrase_proposal_attention import PhraseProposalAttention
from .phrase_reconstruction_decoder import PhraseReconstructionDecoder
from .reg_box_head import RegBoxHead
from .region_feature_embedder import RegionFeatureEmbedder, box_geometry
from .region_phrase_scores import image_sentence_scores, region_phrase_scores
from .reir_matching_head import ReIRMatchingHead
from .relation_classifier import RelationClassifier
from .wordnet_label_prior import WordNetLabelPrior

__all__ = [
    'PhraseProposalAttention', 'RegBoxHead',
    'EmbeddingBranch', 'image_sentence_scores', 'region_phrase_scores', 'BaseLabelPrior',
    'GloVeLabelPrior', 'PhraseReconstructionDecoder', 'RegionFeatureEmbedder', 'box_geometry',
    'ReIRMatchingHead', 'RelationClassifier', 'WordNetLabelPrior'
]
