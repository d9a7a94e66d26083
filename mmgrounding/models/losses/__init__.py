from .amc_loss import AMCLoss, amc_loss
from .contrastive import distilled_targets, info_nce, soft_cross_entropy

__all__ = ['AMCLoss', 'amc_loss', 'distilled_targets', 'info_nce', 'soft_cross_entropy']
