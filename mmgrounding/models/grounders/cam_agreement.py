"""How well a query's thresholded CAM region agrees with each of its candidate boxes: the CAM
term of CAM-WSVG's self-taught target (``CAMWSVGGrounder(cam_target_weight=...)``)."""

import torch
from torch import Tensor, nn


def cam_box_agreement(
    maps: Tensor, boxes_norm: Tensor, *, sigma: float = 0.5, omega: float = 10.0, size: int = 32
) -> Tensor:
    """Soft IoU of each query's thresholded CAM region with each of its candidate boxes.

    Args:
        maps: (Q, h, w) CAM maps in [0, 1], spanning the image.
        boxes_norm: (Q, M, 4) boxes as image-normalised xyxy.
        sigma, omega: attention mining's soft threshold T(A) = sigmoid(ω (A − σ)).
        size: side of the grid both are compared on (the map is upsampled bilinearly).

    Returns:
        (Q, M) Σ T(A)·B / Σ (T(A) + B − T(A)·B), B the box's cells (their centres inside).
    """
    upsampled = nn.functional.interpolate(
        maps[:, None], size=(size, size), mode='bilinear', align_corners=False
    )[:, 0]  # (Q, S, S)
    region = torch.sigmoid(omega * (upsampled - sigma))
    centres = (torch.arange(size, device=maps.device, dtype=maps.dtype) + 0.5) / size  # (S,)
    inside_x = (centres >= boxes_norm[..., 0:1]) & (centres <= boxes_norm[..., 2:3])  # (Q, M, S)
    inside_y = (centres >= boxes_norm[..., 1:2]) & (centres <= boxes_norm[..., 3:4])
    box = (inside_y[..., :, None] & inside_x[..., None, :]).to(maps.dtype)  # (Q, M, S, S)
    inter = (box * region[:, None]).sum(dim=(2, 3))  # (Q, M)
    union = box.sum(dim=(2, 3)) + region.sum(dim=(1, 2))[:, None] - inter
    return inter / union.clamp(min=1e-6)
