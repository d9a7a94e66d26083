"""CAM-WSVG's CAM encoder (§3.3, Fig. 4): residual blocks over a noun's Grad-CAM map."""

from typing import Optional

import torch
from mmdet.models.backbones.resnet import BasicBlock
from mmdet.models.layers import SinePositionalEncoding
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmgrounding.registry import MODELS


@MODELS.register_module()
class CAMEncoder(BaseModule):
    """Grad-CAM map (+ the classifier's activations) -> CAM tokens and a refined map.

    Input per query: the raw map A0 (P, h, w) in [0, 1] and, with ``feature_channels`` > 0,
    the (detached) classifier activations the map was computed from. A 3×3 conv stem and
    ``num_blocks`` mmdet ResNet ``BasicBlock`` s give features X (P, C_p, h, w). The refined
    map is A = clamp(A0 + tanh(conv1×1(X)), 0, 1), its head initialised to zero so A = A0
    at the start (interpretation: the paper's "final CAM map" that attention mining widens
    must be something the trained part produces, the classifier being frozen). The CAM
    tokens are X ⊙ A, so what attention mining changes reaches the fusion; with
    ``positional`` they also get the DETR sine positions of their cells (as the visual
    tokens, :class:`MultiLevelVisualEncoder`), so the fusion can read *where* the map is.

    Args:
        dim: C_p.
        feature_channels: channels of the classifier activations given with the map (0: the
            map alone).
        num_blocks: residual blocks.
        num_groups: GroupNorm groups of the stem.
        positional: add sine positions (normalised, mmdet ``SinePositionalEncoding``) to the
            tokens (interpretation: Fig. 4 shows none, but without them a CAM token says what
            the map holds and not where).
        init_cfg: mmengine init config.
    """

    def __init__(
        self,
        *,
        dim: int = 256,
        feature_channels: int = 0,
        num_blocks: int = 2,
        num_groups: int = 32,
        positional: bool = False,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if positional and dim % 2:
            raise ValueError(f'dim must be even for sine positions, got {dim}')
        self.feature_channels = feature_channels
        self.position = (
            SinePositionalEncoding(num_feats=dim // 2, normalize=True) if positional else None
        )
        self.stem = nn.Sequential(
            nn.Conv2d(1 + feature_channels, dim, 3, padding=1, bias=False),
            nn.GroupNorm(num_groups, dim),
            nn.ReLU(inplace=True),
        )
        self.blocks = nn.Sequential(*[BasicBlock(dim, dim) for _ in range(num_blocks)])
        self.map_head = nn.Conv2d(dim, 1, 1)
        nn.init.zeros_(self.map_head.weight)
        nn.init.zeros_(self.map_head.bias)

    def init_weights(self) -> None:
        super().init_weights()
        nn.init.zeros_(self.map_head.weight)
        nn.init.zeros_(self.map_head.bias)

    def forward(self, maps: Tensor, features: Optional[Tensor] = None) -> tuple[Tensor, Tensor]:
        """(P, h, w) maps and (P, C, h, w) features -> (P, h*w, C_p) tokens, (P, h, w) map."""
        x = maps[:, None]  # (P, 1, h, w)
        if self.feature_channels:
            if features is None or features.shape[1] != self.feature_channels:
                raise ValueError(
                    f'CAMEncoder expects {self.feature_channels}-channel classifier features'
                )
            x = torch.cat([x, features.to(x.dtype)], dim=1)
        feats = self.blocks(self.stem(x))  # (P, C_p, h, w)
        refined = (maps + torch.tanh(self.map_head(feats)[:, 0])).clamp(0, 1)  # (P, h, w)
        tokens = feats * refined[:, None]  # (P, C_p, h, w)
        if self.position is not None:
            # no padding: every map gets the same code, computed once (also for P = 0,
            # which mmdet's encoding cannot reshape)
            mask = maps.new_zeros((1, *maps.shape[1:]), dtype=torch.bool)  # (1, h, w)
            tokens = tokens + self.position(mask).to(tokens.dtype)  # (1, C_p, h, w) broadcast
        tokens = tokens.flatten(2).transpose(1, 2)  # (P, h*w, C_p)
        return tokens, refined
