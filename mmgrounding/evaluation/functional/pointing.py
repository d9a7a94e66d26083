"""Pointing game: does the predicted point fall inside a ground-truth box of its phrase?"""
import torch
from torch import Tensor


def heatmap_peaks(heatmaps: Tensor, image_hw: tuple[int, int]) -> Tensor:
    """Pixel coordinates of each heatmap's maximum.

    The heatmap grid spans the whole image, so cell (i, j) of an (h, w) grid covers pixels
    ``[j * W / w, (j + 1) * W / w)`` horizontally; its centre is the reported point. Ties go to
    the first maximum in row-major order.

    Args:
        heatmaps: (P, h, w) maps.
        image_hw: (H, W) image size in pixels.

    Returns:
        (P, 2) points as (x, y) pixels.
    """
    num, h, w = heatmaps.shape
    if num == 0:
        return heatmaps.new_zeros((0, 2))
    flat = heatmaps.reshape(num, h * w)  # (P, h*w)
    if torch.isnan(flat).any():
        raise ValueError('heatmap contains NaN')
    index = flat.argmax(dim=1)
    rows = torch.div(index, w, rounding_mode='floor')
    cols = index % w
    height, width = image_hw
    x = (cols.float() + 0.5) * (width / w)
    y = (rows.float() + 0.5) * (height / h)
    return torch.stack([x, y], dim=1)


def box_centres(boxes_xyxy: Tensor) -> Tensor:
    """(P, 4) xyxy boxes -> (P, 2) centres (x, y)."""
    return torch.stack([(boxes_xyxy[:, 0] + boxes_xyxy[:, 2]) / 2,
                        (boxes_xyxy[:, 1] + boxes_xyxy[:, 3]) / 2], dim=1)


def pointing_hits(points: Tensor,
                  boxes_xyxy: Tensor,
                  box_phrase_index: Tensor,
                  *,
                  tolerance: float = 0.0) -> Tensor:
    """Whether each phrase's point lies inside any of that phrase's ground-truth boxes.

    Args:
        points: (P, 2) predicted (x, y) per phrase.
        boxes_xyxy: (K, 4) ground-truth boxes of all phrases.
        box_phrase_index: (K,) the phrase (row of ``points``) each box belongs to.
        tolerance: pixels a point may lie outside a box and still count (the pointing game
            of Zhang et al. uses 15; weakly supervised grounding papers use 0).

    Returns:
        (P,) bool. A phrase without boxes never hits.
    """
    num_phrases = points.shape[0]
    if boxes_xyxy.numel() == 0 or num_phrases == 0:
        return torch.zeros(num_phrases, dtype=torch.bool, device=points.device)
    pts = points[box_phrase_index]  # (K, 2): the point of each box's phrase
    inside = ((pts[:, 0] >= boxes_xyxy[:, 0] - tolerance)
              & (pts[:, 0] <= boxes_xyxy[:, 2] + tolerance)
              & (pts[:, 1] >= boxes_xyxy[:, 1] - tolerance)
              & (pts[:, 1] <= boxes_xyxy[:, 3] + tolerance))  # (K,)
    hits = torch.zeros(num_phrases, dtype=torch.bool, device=points.device)
    hits[box_phrase_index[inside]] = True
    return hits
