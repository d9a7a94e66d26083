"""ReIR's visual object graph: phrases exchange attended features along relations (Eq. 5-8)."""

from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmgrounding.registry import MODELS

EDGE_WEIGHTS = ('learned', 'uniform')


def graph_update(
    nodes: Tensor, edges: Tensor, messages: Tensor, *, edge_weights: str = 'learned'
) -> Tensor:
    """z'_i = z_i + Σ_{j∈N(i)} ω_ij m_j, ω_ij = softmax_{j∈N(i)} m_iᵀ m_j / √d (or 1 / |N(i)|).

    Args:
        nodes: (N, d) z.
        edges: (E, 2) int64 node pairs; undirected, repeats ignored, self-loops ignored.
        messages: (N, d) F_M(z).
        edge_weights: ``'learned'`` (the softmax above) or ``'uniform'`` (Table 2's "uniform ω").

    Returns:
        (N, d) z'; a node without neighbours keeps z.
    """
    if edge_weights not in EDGE_WEIGHTS:
        raise ValueError(f'edge_weights must be one of {EDGE_WEIGHTS}, got {edge_weights!r}')
    num = nodes.shape[0]
    adjacency = torch.zeros((num, num), dtype=torch.bool, device=nodes.device)
    if edges.numel():
        edges = edges.to(nodes.device).long()
        adjacency[edges[:, 0], edges[:, 1]] = True
        adjacency[edges[:, 1], edges[:, 0]] = True
        adjacency.fill_diagonal_(False)
    if edge_weights == 'uniform':
        logits = torch.zeros((num, num), dtype=nodes.dtype, device=nodes.device)
    else:
        logits = messages @ messages.T / messages.shape[1] ** 0.5  # (N, N)
    weights = logits.masked_fill(~adjacency, float('-inf')).softmax(dim=1)
    weights = torch.nan_to_num(weights, nan=0.0)  # rows without neighbours
    return nodes + weights @ messages


@MODELS.register_module()
class VisualObjectGraph(BaseModule):
    """Nodes are phrases (their attended features z), edges the relation phrases linking them.

    F_M is Linear(d, d) + ReLU. The grounder then refines each phrase's boxes:
    x'_{o_ik} = x_{o_ik} + α^c_ik z'_i (Eq. 8).

    Args:
        dim: d.
        edge_weights: ``'learned'`` (Eq. 7) or ``'uniform'``.
        init_cfg: mmengine init config.
    """

    def __init__(
        self, dim: int, *, edge_weights: str = 'learned', init_cfg: Optional[dict] = None
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if edge_weights not in EDGE_WEIGHTS:
            raise ValueError(f'edge_weights must be one of {EDGE_WEIGHTS}, got {edge_weights!r}')
        self.edge_weights = edge_weights
        self.message = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(inplace=True))

    def forward(self, nodes: Tensor, edges: Tensor) -> Tensor:
        """(N, d) z and (E, 2) edges -> (N, d) z'."""
        return graph_update(nodes, edges, self.message(nodes), edge_weights=self.edge_weights)
