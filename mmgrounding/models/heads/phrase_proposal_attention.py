"""Phrase–proposal attention whose argmax is CAM-WSVG's self-taught box target."""

from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmgrounding.registry import MODELS


@MODELS.register_module()
class PhraseProposalAttention(BaseModule):
    """α = softmax_M(q(x_q) · k(x_o) / √d) over an image's valid proposals, z = Σ α v(x_o).

    The region features are layer-normalised first (detector features of any scale). L_rec
    (reconstructing the phrase from z) trains it, as ReIR's coarse stage.

    Args:
        query_dim: size of the phrase feature.
        region_dim: D, size of the cached region features.
        dim: d, attention width and size of z.
        init_cfg: mmengine init config.
    """

    def __init__(
        self, query_dim: int, region_dim: int, *, dim: int = 256, init_cfg: Optional[dict] = None
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.norm = nn.LayerNorm(region_dim)
        self.query = nn.Linear(query_dim, dim)
        self.key = nn.Linear(region_dim, dim)
        self.value = nn.Sequential(
            nn.Linear(region_dim, dim), nn.ReLU(inplace=True), nn.Linear(dim, dim)
        )
        self.dim = dim

    def forward(self, phrases: Tensor, regions: Tensor, valid: Tensor) -> tuple[Tensor, Tensor]:
        """(P, query_dim), (P, M, D), (P, M) bool -> α (P, M), z (P, d)."""
        regions = self.norm(regions)
        logits = torch.einsum('pd,pmd->pm', self.query(phrases), self.key(regions))
        logits = (logits / self.dim**0.5).masked_fill(~valid, float('-inf'))
        alpha = torch.nan_to_num(logits.softmax(dim=1), nan=0.0)  # rows without boxes: 0
        return alpha, (alpha[..., None] * self.value(regions)).sum(dim=1)
