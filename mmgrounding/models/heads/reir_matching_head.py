"""ReIR's matching head: F_cls (phrase–region score) and F_reg (box deltas), Eq. 2 and 9."""

from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmgrounding.registry import MODELS


def masked_softmax(logits: Tensor, mask: Tensor, fallback: Tensor) -> Tensor:
    """Softmax over the last dim where ``mask``; rows without any use ``fallback`` instead;
    rows without either are all zero."""
    mask = torch.where(mask.any(dim=-1, keepdim=True), mask, fallback)
    probs = logits.masked_fill(~mask, float('-inf')).softmax(dim=-1)
    return torch.nan_to_num(probs, nan=0.0)


def prior_softmax(logits: Tensor, prior: Tensor, valid: Tensor) -> Tensor:
    """α ∝ ŝ · s^a over the boxes with ŝ = exp(logits), i.e. softmax(logits + log s^a).

    Boxes whose prior is 0 are left out (as the official masked softmax), unless the phrase
    has no box with a positive prior; padding (``valid`` False) is always left out.
    """
    keep = valid & (prior > 0)
    log_prior = torch.where(keep, prior, torch.ones_like(prior)).log()
    return masked_softmax(logits + log_prior, keep, valid)


def _mlp(in_dim: int, hidden_dim: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_dim, hidden_dim), nn.ReLU(inplace=True), nn.Linear(hidden_dim, out_dim)
    )


@MODELS.register_module()
class ReIRMatchingHead(BaseModule):
    """Two FC networks on a phrase x_q and its boxes x_o, shared by both stages.

    F_cls(scale · x̂_q ⊙ x̂_o) -> log ŝ, on the L2-normalised features, so the score of a
    box depends on the phrase (with [x_q, x_o] as input, as the official code, the softmax
    over the boxes cancels the phrase term and every phrase of an image attended to the same
    box in our runs: an interpretation). F_reg([x_q, x_o]) -> (dx, dy, dw, dh) in the weighted
    delta space of :func:`delta_coder`; with ``reg_uses_phrase=False`` F_reg sees x_o only
    (Table 2's "STR without x_q"). The last layer of F_reg starts at zero, so an untrained
    head leaves the boxes where they are.

    Args:
        dim: d, the size of x_q and x_o.
        hidden_dim: hidden size of both networks (official F_reg: 256).
        reg_uses_phrase: feed x_q to F_reg.
        scale: the temperature of the cosine-like product.
        init_cfg: mmengine init config.
    """

    def __init__(
        self,
        dim: int,
        *,
        hidden_dim: int = 256,
        reg_uses_phrase: bool = True,
        scale: float = 10.0,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.reg_uses_phrase = reg_uses_phrase
        self.scale = scale
        self.cls = _mlp(dim, hidden_dim, 1)
        self.reg = _mlp((2 if reg_uses_phrase else 1) * dim, hidden_dim, 4)
        nn.init.zeros_(self.reg[-1].weight)
        nn.init.zeros_(self.reg[-1].bias)

    def forward(self, phrases: Tensor, regions: Tensor) -> tuple[Tensor, Tensor]:
        """(P, d) phrases and (P, K, d) their regions -> (P, K) scores, (P, K, 4) deltas."""
        q = phrases[:, None].expand_as(regions)  # (P, K, d)
        scores = self.cls(self.scale * F.normalize(q, dim=-1) * F.normalize(regions, dim=-1))[
            ..., 0
        ]
        deltas = self.reg(torch.cat([q, regions], dim=-1) if self.reg_uses_phrase else regions)
        return scores, deltas
