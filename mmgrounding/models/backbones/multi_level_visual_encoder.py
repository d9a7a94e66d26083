"""CAM-WSVG's visual encoder (§3.1, Fig. 3): ResNet levels + sine positions + self-attention."""

from typing import Optional, Sequence

import torch
from mmdet.models.layers import SinePositionalEncoding
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmgrounding.registry import MODELS


class LevelRefiner(nn.Module):
    """One level: F1 = proj(F) + pos, F2 = self-attention(F1), F3 = conv-GN-GELU-conv(F1 + F2)."""

    def __init__(self, in_channels: int, dim: int, *, num_heads: int, num_groups: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_channels, dim, 1)
        self.attention = nn.MultiheadAttention(dim, num_heads, batch_first=True)
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, 3, padding=1),
            nn.GroupNorm(num_groups, dim),
            nn.GELU(),
            nn.Conv2d(dim, dim, 3, padding=1),
        )

    def forward(self, feature: Tensor, pos: Tensor) -> Tensor:
        """(B, C, h, w) features, (B, dim, h, w) positions -> (B, dim, h, w)."""
        f1 = self.proj(feature) + pos
        tokens = f1.flatten(2).transpose(1, 2)  # (B, h*w, dim)
        f2, _ = self.attention(tokens, tokens, tokens, need_weights=False)
        f2 = f2.transpose(1, 2).reshape(f1.shape)  # (B, dim, h, w)
        return self.block(f1 + f2)


@MODELS.register_module()
class MultiLevelVisualEncoder(BaseModule):
    """mmdet ResNet stages F3..F5, each refined by :class:`LevelRefiner` at width C_p.

    The levels are ResNet's strides 8, 16, 32 (F3 = ``layer2``, F4 = ``layer3``, F5 =
    ``layer4``); ``levels`` chooses which are returned (Table 4). mmdet's DETR-style
    :class:`SinePositionalEncoding` (normalised) gives the positions of each level.

    Args:
        backbone: mmdet ``ResNet`` config; its ``out_indices`` are set from ``levels``.
        levels: which of 3, 4, 5 to return, in this order.
        in_channels: channels of F3, F4, F5 (ResNet-50: 512, 1024, 2048; ResNet-18 at base
            width b: 2b, 4b, 8b).
        dim: C_p.
        num_heads: heads of each level's self-attention.
        num_groups: GroupNorm groups.
        init_cfg: mmengine init config.
    """

    def __init__(
        self,
        *,
        backbone: dict,
        levels: Sequence[int] = (3, 4, 5),
        in_channels: Sequence[int] = (512, 1024, 2048),
        dim: int = 256,
        num_heads: int = 8,
        num_groups: int = 32,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        levels = tuple(int(level) for level in levels)
        if not levels or len(set(levels)) != len(levels) or not set(levels) <= {3, 4, 5}:
            raise ValueError(f'levels must be distinct values of 3, 4, 5, got {levels}')
        if len(in_channels) != 3:
            raise ValueError(f'in_channels gives F3, F4, F5: 3 numbers, got {in_channels}')
        if dim % 2:
            raise ValueError(f'dim must be even (sine positions), got {dim}')
        self.levels = levels
        self.dim = dim
        self.backbone = MODELS.build(
            dict(backbone, out_indices=tuple(level - 2 for level in sorted(levels)))
        )
        self.position = SinePositionalEncoding(num_feats=dim // 2, normalize=True)
        self.refiners = nn.ModuleList(
            LevelRefiner(in_channels[level - 3], dim, num_heads=num_heads, num_groups=num_groups)
            for level in levels
        )

    def forward(self, images: Tensor) -> list[Tensor]:
        """(B, 3, H, W) -> one (B, C_p, h_l, w_l) map per level of ``levels``."""
        outs = dict(zip(sorted(self.levels), self.backbone(images)))
        maps = []
        for level, refiner in zip(self.levels, self.refiners):
            feature = outs[level]
            mask = torch.zeros(
                feature.shape[0], *feature.shape[2:], dtype=torch.bool, device=feature.device
            )  # no padding: resized inputs
            maps.append(refiner(feature, self.position(mask).to(feature.dtype)))
        return maps
