"""Reading predictions and ground truth from the samples a metric receives."""

from typing import Any

import torch
from torch import Tensor


def field(sample: Any, key: str, default: Any = None) -> Any:
    """A field of a data sample, whether it arrives as a data element or as its dict."""
    if isinstance(sample, dict):
        return sample.get(key, default)
    return sample.get(key, default)


def gt_boxes_and_index(sample: Any) -> tuple[Tensor, Tensor]:
    """(K, 4) ground-truth xyxy boxes (original image pixels) and (K,) their phrase index."""
    gt = field(sample, 'gt_instances')
    bboxes = None if gt is None else field(gt, 'bboxes')
    if bboxes is None:  # no ground truth, or an empty InstanceData
        return torch.zeros((0, 4)), torch.zeros(0, dtype=torch.long)
    labels = field(gt, 'labels')
    bboxes = bboxes.tensor if hasattr(bboxes, 'tensor') else bboxes
    return bboxes.detach().float().cpu().reshape(-1, 4), labels.detach().long().cpu()


def mean_percent(values: list[bool]) -> float:
    return 100.0 * sum(values) / len(values) if values else 0.0


def box_convention_of(metric: Any) -> str:
    """How the ground-truth boxes a metric receives were loaded (a key of
    :data:`~mmgrounding.evaluation.functional.BOX_CONVENTIONS`): the metric's
    ``box_convention`` when it was given one, else the dataset's
    ``METAINFO['box_convention']`` (set by the runner as ``metric.dataset_meta``), else
    ``'continuous'``."""
    override = getattr(metric, 'box_convention', None)
    if override is not None:
        return override
    meta = getattr(metric, 'dataset_meta', None) or {}
    return meta.get('box_convention', 'continuous')
