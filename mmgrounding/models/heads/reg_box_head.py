"""The box head of CAM-WSVG (§3.4): three FC layers from the [REG] outputs to a box."""

from typing import Optional

from mmengine.model import BaseModule
from torch import Tensor, nn

from mmgrounding.registry import MODELS


@MODELS.register_module()
class RegBoxHead(BaseModule):
    """MLP (``num_fcs`` linear layers, ReLU between) -> sigmoid -> normalised (cx, cy, w, h).

    As TransVG's prediction head: the box is relative to the image (all in [0, 1]). With
    ``activation='none'`` the 4 outputs are left raw: the (dx, dy, dw, dh) deltas of the
    select-then-refine variant (relative to a proposal, CAM-WSVG's grounder), the last layer
    initialised to zero (no move at the start).

    Args:
        in_dim: size of the merged [REG] vector.
        hidden_dim: width of the hidden layers.
        num_fcs: linear layers (paper: 3).
        activation: ``'sigmoid'`` (a box in the image) or ``'none'`` (deltas).
        init_cfg: mmengine init config.
    """

    def __init__(
        self,
        in_dim: int,
        *,
        hidden_dim: int = 256,
        num_fcs: int = 3,
        activation: str = 'sigmoid',
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_fcs < 1:
            raise ValueError(f'num_fcs must be >= 1, got {num_fcs}')
        if activation not in ('sigmoid', 'none'):
            raise ValueError(f"activation must be 'sigmoid' or 'none', got {activation!r}")
        self.activation = activation
        dims = [in_dim] + [hidden_dim] * (num_fcs - 1) + [4]
        layers: list[nn.Module] = []
        for i in range(num_fcs):
            layers.append(nn.Linear(dims[i], dims[i + 1]))
            if i < num_fcs - 1:
                layers.append(nn.ReLU(inplace=True))
        self.mlp = nn.Sequential(*layers)
        if activation == 'none':
            nn.init.zeros_(self.mlp[-1].weight)
            nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, reg: Tensor) -> Tensor:
        """(P, in_dim) -> (P, 4) normalised (cx, cy, w, h), or raw deltas."""
        out = self.mlp(reg)
        return out.sigmoid() if self.activation == 'sigmoid' else out
