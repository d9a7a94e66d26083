"""Online region features: a frozen mmdet ResNet up to C4 and mmcv.ops RoIAlign (ReIR)."""

from typing import Optional, Sequence

import torch
from mmcv.ops import RoIAlign
from mmdet.structures.bbox import bbox2roi
from mmengine.model import BaseModule
from torch import Tensor

from mmgrounding.registry import MODELS


@MODELS.register_module()
class FrozenC4RoIExtractor(BaseModule):
    """Image batch and boxes -> the mean over a RoIAlign grid of the frozen C4 feature map.

    The paper pools ResNet-101 C4 features at each box (and again at the refined boxes of
    stage 1). The backbone is an mmdet ``ResNet`` with three stages (C4, stride 16), kept
    in eval mode and without gradients; its weights come from its ``init_cfg`` (e.g.
    ``dict(type='Pretrained', checkpoint='torchvision://resnet101')``).

    Args:
        backbone: mmdet backbone config (its last output is the C4 map).
        output_size: RoIAlign grid.
        spatial_scale: 1 / stride of the map.
        sampling_ratio: RoIAlign samples per bin (0: adaptive).
        init_cfg: mmengine init config.
    """

    def __init__(
        self,
        *,
        backbone: dict = dict(
            type='ResNet',
            depth=101,
            num_stages=3,
            strides=(1, 2, 2),
            dilations=(1, 1, 1),
            out_indices=(2,),
            frozen_stages=3,
            norm_cfg=dict(type='BN', requires_grad=False),
            norm_eval=True,
            style='pytorch',
        ),
        output_size: int = 7,
        spatial_scale: float = 1 / 16,
        sampling_ratio: int = 0,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        for param in self.backbone.parameters():
            param.requires_grad_(False)
        self.backbone.eval()
        self.roi_align = RoIAlign(
            output_size, spatial_scale=spatial_scale, sampling_ratio=sampling_ratio, aligned=True
        )

    def train(self, mode: bool = True) -> 'FrozenC4RoIExtractor':
        super().train(mode)
        self.backbone.eval()  # frozen: batch-norm statistics too
        return self

    @torch.no_grad()
    def feature_map(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) -> (B, C, H/16, W/16)."""
        return self.backbone(images)[-1]

    @torch.no_grad()
    def pool(self, feature_map: Tensor, boxes_xyxy: Sequence[Tensor]) -> list[Tensor]:
        """B lists of (N_b, 4) boxes in input-image pixels -> B (N_b, C) features."""
        rois = bbox2roi([b.float().to(feature_map.device) for b in boxes_xyxy])  # (N, 5)
        pooled = self.roi_align(feature_map, rois).mean(dim=(2, 3))  # (N, C)
        return list(pooled.split([len(b) for b in boxes_xyxy]))

    def forward(self, images: Tensor, boxes_xyxy: Sequence[Tensor]) -> list[Tensor]:
        return self.pool(self.feature_map(images), boxes_xyxy)
