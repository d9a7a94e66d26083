"""F_rel: the relation class of two linked phrases from their attended features (ReIR Eq. 16)."""

from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmgrounding.registry import MODELS


@MODELS.register_module()
class RelationClassifier(BaseModule):
    """[z_i, z_j] -> Linear -> ReLU -> Linear -> C_r + 1 scores (class 0: other).

    Args:
        dim: size of z.
        num_classes: C_r + 1.
        hidden_dim: hidden size (official: d).
        init_cfg: mmengine init config.
    """

    def __init__(
        self, dim: int, num_classes: int, *, hidden_dim: int = 1024, init_cfg: Optional[dict] = None
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_classes < 2:
            raise ValueError(f'num_classes (C_r + 1) must be >= 2, got {num_classes}')
        self.layers = nn.Sequential(
            nn.Linear(2 * dim, hidden_dim),
            nn.ReLU(inplace=True),
            nn.Linear(hidden_dim, num_classes),
        )

    def forward(self, subjects: Tensor, objects: Tensor) -> Tensor:
        """(R, d) and (R, d) -> (R, C_r + 1)."""
        return self.layers(torch.cat([subjects, objects], dim=-1))
