"""How much of a phrase's box a CAM map covers above a threshold (CAM-WSVG attention mining)."""

import torch
import torch.nn.functional as F
from torch import Tensor


def upsample_map(cam: Tensor, size_hw: tuple[int, int]) -> Tensor:
    """(h, w) map on the image grid -> (H, W) by bilinear interpolation (as AM erases)."""
    return F.interpolate(
        cam[None, None].float(), size=tuple(size_hw), mode='bilinear', align_corners=False
    )[0, 0]


def box_mask(boxes_xyxy: Tensor, size_hw: tuple[int, int]) -> Tensor:
    """(n, 4) xyxy boxes in pixels -> (H, W) bool, True at the pixels (centres) inside any."""
    height, width = size_hw
    ys = torch.arange(height, dtype=torch.float32)[:, None] + 0.5  # (H, 1) pixel centres
    xs = torch.arange(width, dtype=torch.float32)[None, :] + 0.5  # (1, W)
    mask = torch.zeros((height, width), dtype=torch.bool)
    for x1, y1, x2, y2 in boxes_xyxy.float().tolist():
        mask |= (xs >= x1) & (xs <= x2) & (ys >= y1) & (ys <= y2)
    return mask


def cam_box_coverage(
    cam: Tensor, boxes_xyxy: Tensor, size_hw: tuple[int, int], *, threshold: float = 0.5
) -> tuple[float, float]:
    """Coverage of a phrase's boxes by one map, and the share of the map outside them.

    The map (in [0, 1], on a grid spanning the whole image) is upsampled to the image size
    and thresholded at ``threshold`` (attention mining's σ): the "interested region" R.

    Args:
        cam: (h, w) map.
        boxes_xyxy: (n, 4) the phrase's ground-truth boxes, image pixels (n ≥ 1).
        size_hw: the image (H, W).
        threshold: the map value from which a pixel is in R (≥).

    Returns:
        (coverage, outside): |R ∩ B| / |B| with B the union of the boxes, and |R \\ B| / |R|
        (0 when R is empty), both in [0, 1].
    """
    if boxes_xyxy.numel() == 0:
        raise ValueError('cam_box_coverage needs at least one box')
    region = upsample_map(cam, size_hw) >= threshold  # (H, W)
    inside = box_mask(boxes_xyxy, size_hw)  # (H, W)
    coverage = float((region & inside).sum()) / max(float(inside.sum()), 1.0)
    outside = float((region & ~inside).sum()) / float(region.sum()) if region.any() else 0.0
    return coverage, outside
