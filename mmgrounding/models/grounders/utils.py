"""Helpers shared by grounders: box masks, gathering across processes, region feature
normalisation."""

from typing import Optional

import torch
import torch.distributed as dist
from mmengine.dist import get_world_size
from torch import Tensor

from mmgrounding.datasets.region_feature_stats import region_feature_stats


def boxes_to_mask(boxes_xyxy: Tensor, image_hw: tuple[int, int]) -> Tensor:
    """(K, 4) boxes -> (H, W) float mask, 1 on pixels whose centre lies in any box."""
    height, width = image_hw
    ys = torch.arange(height, device=boxes_xyxy.device, dtype=torch.float32) + 0.5
    xs = torch.arange(width, device=boxes_xyxy.device, dtype=torch.float32) + 0.5
    if hasattr(boxes_xyxy, 'tensor'):
        boxes_xyxy = boxes_xyxy.tensor
    mask = torch.zeros(height, width, device=boxes_xyxy.device)
    for x1, y1, x2, y2 in boxes_xyxy.float().tolist():
        inside_y = (ys >= y1) & (ys <= y2)  # (H,)
        inside_x = (xs >= x1) & (xs <= x2)  # (W,)
        mask = torch.maximum(mask, (inside_y[:, None] & inside_x[None]).float())
    return mask


def region_feature_normalisation(
    cache_dir: Optional[str],
    *,
    split: str,
    topk: Optional[int],
    feature_dim: Optional[int],
) -> tuple[Tensor, Tensor]:
    """The (D,) mean and standard deviation that normalise the cached region features.

    The statistics of ``split`` of the region cache ``cache_dir`` (a grounder keeps them as
    buffers, so they travel in its checkpoint); without a cache, zeros and ones of
    ``feature_dim`` (a checkpoint's buffers replace them), and without either, a (1,) zero
    and one that broadcast: no normalisation.
    """
    if cache_dir is not None:
        mean, std = region_feature_stats(cache_dir, split=split, topk=topk)
        return torch.tensor(mean).float(), torch.tensor(std).float()
    if feature_dim is not None:
        return torch.zeros(feature_dim), torch.ones(feature_dim)
    return torch.zeros(1), torch.ones(1)  # broadcast: no normalisation


def gather_without_grad(tensor: Tensor) -> Tensor:
    """Concatenate ``tensor`` from every process along dim 0 (no gradient)."""
    if get_world_size() == 1:
        return tensor
    parts = [torch.empty_like(tensor) for _ in range(get_world_size())]
    dist.all_gather(parts, tensor.contiguous())
    return torch.cat(parts)


class _GatherWithGrad(torch.autograd.Function):
    """All-gather along dim 0 whose backward hands each process the summed gradient of its own
    rows (a reduce-scatter, written as an all-reduce, which gloo has)."""

    @staticmethod
    def forward(ctx, tensor: Tensor) -> Tensor:
        world, rank = dist.get_world_size(), dist.get_rank()
        size = torch.tensor([tensor.shape[0]], device=tensor.device)
        sizes = [torch.zeros_like(size) for _ in range(world)]
        dist.all_gather(sizes, size)
        sizes = [int(s) for s in sizes]
        padded = tensor.new_zeros((max(sizes), *tensor.shape[1:]))  # equal shapes for gloo
        padded[: tensor.shape[0]] = tensor
        parts = [torch.empty_like(padded) for _ in range(world)]
        dist.all_gather(parts, padded.contiguous())
        ctx.sizes, ctx.rank = sizes, rank
        return torch.cat([part[:size] for part, size in zip(parts, sizes)])

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)  # Σ over processes of d(their loss)/d(every row)
        start = sum(ctx.sizes[: ctx.rank])
        return grad[start : start + ctx.sizes[ctx.rank]]


def gather_with_grad(tensor: Tensor) -> Tensor:
    """Concatenate ``tensor`` (N_r, ...) of every process r along dim 0, keeping the gradient.

    Every process computes the same loss of the gathered rows; the backward sums the
    processes' gradients of a process's own rows into it, so that DDP's average of the
    parameter gradients is the gradient of that loss (the rows may differ in number).
    """
    if not (dist.is_available() and dist.is_initialized()) or get_world_size() == 1:
        return tensor
    return _GatherWithGrad.apply(tensor)


# How rank_boxes_by_heatmap turns a map and a box into a score:
# - 'cover' (ours, the default): the map upsampled bilinearly, the mass over every pixel the
#   box touches (floor of x1, y1 to ceil of x2, y2), the area clamped to at least 1 pixel;
# - 'amc_official': uvavision/AMC-grounding dataset/utils.py grounding_eval: the map upsampled
#   with F.interpolate(mode='bicubic') to (H, W), the mass of
#   mask[int(y):int(y + h), int(x):int(x + w)] (truncated corners), over (w * h) ** alpha (as
#   'cover', an area under one pixel counts as one: the official code would divide by ~0);
#   the first box of strictly highest score wins (a stable sort keeps the first of equal
#   scores).
BOX_RANKING_RULES = ('cover', 'amc_official')


def rank_boxes_by_heatmap(
    heatmaps: Tensor,
    boxes_xyxy: Tensor,
    image_hw: tuple[int, int],
    *,
    area_power: float = 0.5,
    rule: str = 'cover',
) -> tuple[Tensor, Tensor]:
    """Rank boxes per phrase by heatmap mass inside the box divided by area**area_power.

    AMC (Table 3) scores detector proposals this way to report Recall@k from Grad-CAM maps:
    the mass alone favours large boxes, its mean (power 1) small ones.

    Args:
        heatmaps: (P, h, w) non-negative maps spanning the whole image.
        boxes_xyxy: (K, 4) boxes in image pixels.
        image_hw: (H, W) of the image the boxes are in.
        area_power: exponent of the box area in the denominator.
        rule: a key of :data:`BOX_RANKING_RULES`: ``'cover'`` (bilinear upsampling, the
            pixels the box touches) or ``'amc_official'`` (the official AMC evaluation:
            bicubic upsampling, the pixels ``int(y1):int(y2)``, ``int(x1):int(x2)``, ties to
            the first box).

    Returns:
        ``(boxes, scores)``: (P, K, 4) the boxes of each phrase, best first, and (P, K) their
        scores.
    """
    if rule not in BOX_RANKING_RULES:
        raise ValueError(f'rule must be one of {BOX_RANKING_RULES}, got {rule!r}')
    num_phrases, num_boxes = heatmaps.shape[0], boxes_xyxy.shape[0]
    height, width = (int(v) for v in image_hw)
    if num_phrases == 0 or num_boxes == 0:
        return boxes_xyxy.new_zeros((num_phrases, num_boxes, 4)), heatmaps.new_zeros(
            (num_phrases, num_boxes)
        )
    official = rule == 'amc_official'
    maps = torch.nn.functional.interpolate(
        heatmaps[:, None].float(),
        size=(height, width),
        mode='bicubic' if official else 'bilinear',
        align_corners=False,
    )[:, 0]  # (P, H, W)
    # integral image with a zero first row and column: sum over [y1, y2) x [x1, x2)
    integral = torch.nn.functional.pad(maps.cumsum(1).cumsum(2), (1, 0, 1, 0))  # (P, H+1, W+1)
    boxes = boxes_xyxy.float().to(maps.device)
    # official: Python's int() of non-negative corners is the floor of both; ours covers
    # every pixel the box touches
    low, high = torch.floor, (torch.floor if official else torch.ceil)
    x1 = low(boxes[:, 0]).clamp(0, width).long()
    y1 = low(boxes[:, 1]).clamp(0, height).long()
    x2 = high(boxes[:, 2]).clamp(0, width).long()
    y2 = high(boxes[:, 3]).clamp(0, height).long()
    mass = (
        integral[:, y2, x2] - integral[:, y1, x2] - integral[:, y2, x1] + integral[:, y1, x1]
    )  # (P, K)
    area = (
        (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)
    ).clamp(min=1.0)  # (K,)
    scores = mass / area.pow(area_power)  # (P, K)
    scores, order = scores.sort(dim=1, descending=True, stable=official)
    return boxes_xyxy[order], scores  # (P, K, 4), (P, K)
