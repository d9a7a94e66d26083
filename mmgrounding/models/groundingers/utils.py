"""Helpers shared by grounders: box masks and gathering across processes."""
import torch
import torch.distributed as dist
from mmengine.dist import get_world_size
from torch import Tensor


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


def gather_without_grad(tensor: Tensor) -> Tensor:
    """Concatenate ``tensor`` from every process along dim 0 (no gradient)."""
    if get_world_size() == 1:
        return tensor
    parts = [torch.empty_like(tensor) for _ in range(get_world_size())]
    dist.all_gather(parts, tensor.contiguous())
    return torch.cat(parts)

