"""A region's RoI feature and box geometry embedded into the matching space (ReIR's x_o)."""

from typing import Optional

import torch
import torch.distributed as dist
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


class _AllReduceSum(torch.autograd.Function):
    """Sum over processes; the gradient is summed over processes too."""

    @staticmethod
    def forward(ctx, tensor: Tensor) -> Tensor:
        tensor = tensor.contiguous().clone()
        dist.all_reduce(tensor)
        return tensor

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        return grad


class CrossProcessBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm1d whose training statistics are those of the rows of every process.

    ``torch.nn.SyncBatchNorm`` (what mmengine's ``sync_bn`` converts to) accepts CUDA-like
    inputs only; this one works on any device and backend, gloo on CPU included: the row
    count, the per-channel sums and then the sums of squared deviations are summed over the
    processes (differentiably), so that N processes of B rows each normalise, update the
    running statistics and back-propagate as one process of N·B rows (the rows may differ
    in number). Without a process group of more than one process it is ``BatchNorm1d``;
    the state dict is the same, so checkpoints move between the two.
    """

    def forward(self, input: Tensor) -> Tensor:
        if not (
            self.training
            and dist.is_available()
            and dist.is_initialized()
            and dist.get_world_size() > 1
        ):
            if self.training and input.shape[0] < 2:
                return input  # batch statistics of one row are undefined
            return super().forward(input)
        if input.dim() != 2:
            raise ValueError(f'expected (N, C) input, got {tuple(input.shape)}')
        count = torch.tensor([float(input.shape[0])], device=input.device)
        dist.all_reduce(count)
        num = float(count)
        if num < 2:
            return input  # batch statistics of one row are undefined (as RegionFeatureEmbedder)
        mean = _AllReduceSum.apply(input.sum(dim=0)) / num  # (C,)
        centred = input - mean
        var = _AllReduceSum.apply(centred.pow(2).sum(dim=0)) / num  # (C,) biased
        if self.track_running_stats:
            self.num_batches_tracked.add_(1)
            factor = (
                1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
            )
            with torch.no_grad():
                self.running_mean.mul_(1 - factor).add_(factor * mean.detach())
                self.running_var.mul_(1 - factor).add_(factor * var.detach() * num / (num - 1))
        out = centred * torch.rsqrt(var + self.eps)
        if self.affine:
            out = out * self.weight + self.bias
        return out


@MODELS.register_module()
class RegionFeatureEmbedder(BaseModule):
    """[RoI feature, box geometry] -> Linear -> ReLU -> BatchNorm (the official embedding).

    Args:
        in_dim: D, the RoI feature size (ResNet C4/res5: 2048; the SynthGround cache: 256).
        out_dim: d (official: 1024).
        with_geometry: append :func:`box_geometry` (5 numbers) to the feature (the paper's
            "spatial feature"; the official code turns it off).
        norm: ``'BN'`` (official), ``'SyncBN'`` (:class:`CrossProcessBatchNorm1d`: the
            statistics of every process's regions; BN in one process), ``'LN'`` or None.
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
        if norm not in ('BN', 'SyncBN', 'LN', None):
            raise ValueError(f"norm must be 'BN', 'SyncBN', 'LN' or None, got {norm!r}")
        self.with_geometry = with_geometry
        self.fc = nn.Linear(in_dim + (5 if with_geometry else 0), out_dim)
        self.norm = (
            nn.BatchNorm1d(out_dim)
            if norm == 'BN'
            else CrossProcessBatchNorm1d(out_dim)
            if norm == 'SyncBN'
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
        if (
            type(self.norm) is nn.BatchNorm1d  # CrossProcessBatchNorm1d counts every process
            and self.training
            and out.shape[0] < 2
        ):
            return out  # batch statistics of one row are undefined
        return self.norm(out)
