"""ReIR's answer (Eq. 11): the boxes of each stage moved by their deltas, ranked by s = α^c · α^f.

Pure functions of the tensors :class:`~mmgrounding.models.grounders.ReIRGrounder` computes;
the grounder refines the top K boxes with :func:`decode_clipped` during training too.
"""

from typing import Optional

import torch
from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder
from torch import Tensor


def gather_rows(values: Tensor, index: Tensor) -> Tensor:
    """values (P, M, ...) and index (P, K) -> (P, K, ...)."""
    expanded = index.reshape(*index.shape, *([1] * (values.dim() - 2)))
    return values.gather(1, expanded.expand(*index.shape, *values.shape[2:]))


def decode_clipped(
    coder: DeltaXYWHBBoxCoder, boxes_xyxy: Tensor, deltas: Tensor, image_hw: Tensor
) -> Tensor:
    """(P, K, 4) boxes moved by (P, K, 4) deltas, clipped to the (P, 2) image sizes (H, W)."""
    moved = coder.decode(boxes_xyxy.reshape(-1, 4).float(), deltas.reshape(-1, 4).float()).reshape(
        boxes_xyxy.shape
    )
    wh = image_hw.flip(-1).to(moved.dtype)[:, None].repeat(1, 1, 2)  # (P, 1, 4) as W, H, W, H
    return torch.minimum(moved.clamp(min=0), wh)


def reir_answers(out: dict, *, coder: Optional[DeltaXYWHBBoxCoder], two_stage: bool) -> dict:
    """The answer of each stage and the ranked boxes of every phrase.

    Args:
        out: the grounder's forward tensors: ``boxes_c`` (P, M, 4), ``deltas_c``, ``alpha_c``
            (P, M), ``valid_c`` (P, M) bool, ``hw`` (P, 2); with ``two_stage`` also
            ``boxes_f`` (P, K, 4) the kept boxes V_i, ``deltas_f``, ``alpha_top`` (their
            α^c) and ``alpha_f`` (P, K).
        coder: the delta coder of the regression, or None (no regression: boxes stay).
        two_stage: whether ``out`` holds the fine stage.

    Returns:
        dict with ``stage1``, ``stage2``, ``fused`` (P, 4) — the best box by α^c, by α^f and
        by s = α^c · α^f, each moved by its stage's deltas — and ``ranked_boxes`` (P, K, 4),
        ``ranked_scores`` (P, K), best first (stable). Without the fine stage all M boxes are
        ranked by α^c (padding last, score -1) and the three answers are the same.
    """
    rows = torch.arange(out['alpha_c'].shape[0], device=out['alpha_c'].device)
    boxes_c = out['boxes_c']
    if coder is not None:
        boxes_c = decode_clipped(coder, boxes_c, out['deltas_c'], out['hw'])  # (P, M, 4)
    stage1 = boxes_c[rows, out['alpha_c'].argmax(dim=1)]  # (P, 4)
    if two_stage:
        boxes_f = out['boxes_f']
        if coder is not None:
            boxes_f = decode_clipped(coder, boxes_f, out['deltas_f'], out['hw'])  # (P, K, 4)
        stage2 = boxes_f[rows, out['alpha_f'].argmax(dim=1)]
        ranked_boxes, ranked_scores = boxes_f, out['alpha_top'] * out['alpha_f']  # (P, K)
    else:
        stage2 = stage1
        ranked_boxes = boxes_c
        ranked_scores = out['alpha_c'].masked_fill(~out['valid_c'], -1.0)
    order = ranked_scores.argsort(dim=1, descending=True, stable=True)
    ranked_boxes = gather_rows(ranked_boxes, order)
    ranked_scores = ranked_scores.gather(1, order)
    return dict(
        stage1=stage1,
        stage2=stage2,
        fused=ranked_boxes[:, 0] if len(rows) else stage1,
        ranked_boxes=ranked_boxes,
        ranked_scores=ranked_scores,
    )
