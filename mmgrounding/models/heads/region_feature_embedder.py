"""A region's RoI feature and box geometry embedded into the matching space (ReIR's x_o)."""

from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmgrounding.registry import MODELS


def box_geometry(boxes_xyxy: Tensor, image_hw: Tensor) -> Tensor:
    """(N, 4) boxes and (N, 2) image (H, W) -> (N, 5) x1/W, y1/H, x2/W, y2/H, area/(WH)."""
    hw = image_hw.to(boxes_xyxy.dtype).clamp(min=1.0)
    wh = hw.flip(-1)  # (N, 2) as (W, H)
    corners = boxes_xyxy / wh.repeat(1, 2)
    area = (corners[:, 2] - corners[:, 0]).clamp(min=0) * (corners[:, 3] - corners[:, 1]).clamp(
        min=0
    )
    return torch.cat([corners, area[:, None]], dim=1)


@MODELS.register_module()
class RegionFeatureEmbedder(BaseModule):
    """[RoI feature, box geometry] -> Linear -> ReLU -> BatchNorm (the official embedding).

    Args:
        in_dim: D, the RoI feature size (ResNet C4/res5: 2048; the SynthGround cache: 256).
        out_dim: d (official: 1024).
        with_geometry: append :func:`box_geometry` (5 numbers) to the feature (the paper's
            "spatial feature"; the official code turns it off).
        norm: ``'BN'`` (official), ``'LN'`` or None.
        init_cfg: mmengine init config.
    """

    def __init__(
        self,
        in_dim: int,
        *,
        out_dim: int = 1024,
        with_geometry: bool = True,
        norm: Optional[str] = 'BN',
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if norm not in ('BN', 'LN', None):
            raise ValueError(f"norm must be 'BN', 'LN' or None, got {norm!r}")
        self.with_geometry = with_geometry
        self.fc = nn.Linear(in_dim + (5 if with_geometry else 0), out_dim)
        self.norm = (
            nn.BatchNorm1d(out_dim)
            if norm == 'BN'
            else nn.LayerNorm(out_dim)
            if norm == 'LN'
            else nn.Identity()
        )
        self.out_dim = out_dim

    def forward(self, feats: Tensor, boxes_xyxy: Tensor, image_hw: Tensor) -> Tensor:
        """(N, D) features, (N, 4) boxes, (N, 2) image (H, W) -> (N, d)."""
        if self.with_geometry:
            feats = torch.cat([feats, box_geometry(boxes_xyxy.to(feats.dtype), image_hw)], dim=1)
        out = torch.relu(self.fc(feats))
        if isinstance(self.norm, nn.BatchNorm1d) and self.training and out.shape[0] < 2:
            return out  # batch statistics of one row are undefined
        return self.norm(out)
