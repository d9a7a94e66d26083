from .amc_loss import AMCLoss, amc_loss
from .attention_mining_loss import (
                                    AttentionMiningLoss,
                                    attention_mining_loss,
                                    erase_attended,
                                    soft_mask,
)
from .ckd_region_phrase_loss import CKDRegionPhraseLoss, ckd_pseudo_labels, ckd_region_phrase_loss
from .contrastive import distilled_targets, info_nce, soft_cross_entropy
from .image_caption_ranking_loss import ImageCaptionRankingLoss, image_caption_ranking_loss
from .image_sentence_nce_loss import ImageSentenceNCELoss, image_sentence_nce_loss
from .infoground_image_loss import InfoGroundImageLoss, infoground_image_loss
from .infoground_language_loss import InfoGroundLanguageLoss, infoground_language_loss
from .max_margin_loss import MaxMarginLoss, max_margin_loss
from .phrase_reconstruction_loss import PhraseReconstructionLoss, phrase_reconstruction_loss
from .reg_box_loss import RegBoxLoss, reg_box_loss
from .relation_classification_loss import RelationClassificationLoss, relation_classification_loss
from .self_consistency_loss import SelfConsistencyLoss, self_consistency_loss
from .self_taught_regression_loss import (
                                    SelfTaughtRegressionLoss,
                                    delta_coder,
                                    self_taught_regression_loss,
                                    self_taught_regression_targets,
)

__all__ = [
    'AttentionMiningLoss', 'attention_mining_loss', 'erase_attended', 'soft_mask', 'RegBoxLoss',
    'reg_box_loss',
    'AMCLoss', 'amc_loss', 'CKDRegionPhraseLoss', 'ckd_pseudo_labels', 'ckd_region_phrase_loss',
    'distilled_targets', 'info_nce', 'soft_cross_entropy', 'ImageSentenceNCELoss',
    'image_sentence_nce_loss', 'MaxMarginLoss', 'max_margin_loss', 'InfoGroundImageLoss',
    'infoground_image_loss', 'InfoGroundLanguageLoss', 'infoground_language_loss',
    'SelfConsistencyLoss', 'self_consistency_loss', 'ImageCaptionRankingLoss',
    'image_caption_ranking_loss', 'PhraseReconstructionLoss', 'phrase_reconstruction_loss',
    'RelationClassificationLoss', 'relation_classification_loss', 'SelfTaughtRegressionLoss',
    'delta_coder', 'self_taught_regression_loss', 'self_taught_regression_targets'
]
