"""A stack of fully connected layers with ReLU whose output is L2-normalised (CKD's f and g)."""
from typing import Sequence

import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmgrounding.registry import MODELS


@MODELS.register_module()
class EmbeddingBranch(BaseModule):
    """Linear → ReLU → ... → Linear, then L2 normalisation along the last dimension.

    CKD's region branch f (region feature → 512-d) and phrase branch g (max-pooled LSTM
    state → 512-d) are two of these; s(x, y) = f(x)ᵀ g(y) is then a cosine.

    Args:
        in_dim: input size D.
        hidden_dims: sizes of the hidden layers, each followed by a ReLU.
        out_dim: output size E.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 in_dim: int,
                 *,
                 hidden_dims: Sequence[int] = (512, ),
                 out_dim: int = 512,
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        layers: list[nn.Module] = []
        dims = [in_dim, *hidden_dims]
        for d_in, d_out in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(d_in, d_out), nn.ReLU(inplace=True)]
        layers.append(nn.Linear(dims[-1], out_dim))
        self.layers = nn.Sequential(*layers)
        self.out_dim = out_dim

    def forward(self, x: Tensor) -> Tensor:
        """(..., D) -> (..., E) unit vectors."""
        return F.normalize(self.layers(x), dim=-1)
