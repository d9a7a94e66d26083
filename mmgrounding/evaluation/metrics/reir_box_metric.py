"""ReIR's evaluation: accuracy at IoU 0.5-0.8, mean IoU and PointIt of each stage's answer."""

from collections import defaultdict
from typing import Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mmgrounding.registry import METRICS

from ..functional import (
    BOX_CONVENTIONS,
    box_centres,
    official_gt_boxes,
    pointing_hits,
    union_box,
)
from ..functional.phrase_box_iou import accuracy_at_thresholds, phrase_box_ious
from .utils import box_convention_of, field, gt_boxes_and_index, mean_percent

# the answers the official evaluation counts at IoU > t rather than >= t
# (flickr30k_evaluation_grounding.py: recall_t2_num / recall_t2_fusion_num use '>')
STRICT_OFFICIAL_SETS = ('stage2', 'fused')

BOX_SETS = ('stage1', 'stage2', 'fused')


@METRICS.register_module()
class ReIRBoxMetric(BaseMetric):
    """Per box set (``pred_boxes_<set>``, (P, 4)) and ground-truth protocol:

    - ``<set>/<protocol>/acc@<t>``: % of phrases whose box has IoU >= t (Acc is t = 0.5);
    - ``<set>/<protocol>/miou``: mean IoU;
    - ``<set>/<protocol>/pointit``: % whose box centre lies inside a ground-truth box
      (``any``) or inside the union box (``union``, the paper's PointIt), borders included;
    - ``<set>/<protocol>/<type>``: acc@0.5 per phrase type (a phrase of several types counts
      for each), with ``per_type``.

    Args:
        box_sets: which of ``stage1``, ``stage2``, ``fused`` to report.
        protocols: ``any`` and/or ``union``.
        iou_thrs: the IoU thresholds.
        per_type: also report acc@0.5 per phrase type.
        official: as the official evaluation (youngfly11/ReIR-WeaklyGrounding.pytorch
            ``detectron2/evaluation/flickr30k_evaluation_grounding.py``): the ground truth as
            its ``box_anno.json`` stores it (``get_annotations``: Flickr30k boxes get
            ``x2 - 1``, ``y2 - 1``, see :func:`~mmgrounding.evaluation.functional.
            official_gt_boxes`) for IoU and PointIt, and the refined answers (``stage2``,
            ``fused``) correct at IoU > t instead of >= t (interpretation: the official code
            applies the rule at its one threshold ``EVAL_THRESH``; we apply it at each of
            ``iou_thrs``). Default False: our continuous boxes, IoU >= t everywhere.
        box_convention: how the ground truth was loaded, for ``official``; None (default)
            reads the dataset's ``METAINFO['box_convention']``.
        collect_device, prefix: as in :class:`mmengine.evaluator.BaseMetric`.
    """

    default_prefix: Optional[str] = 'reir'

    def __init__(
        self,
        *,
        box_sets: Sequence[str] = BOX_SETS,
        protocols: Sequence[str] = ('any', 'union'),
        iou_thrs: Sequence[float] = (0.5, 0.6, 0.7, 0.8),
        per_type: bool = True,
        official: bool = False,
        box_convention: Optional[str] = None,
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        unknown = set(box_sets) - set(BOX_SETS)
        if unknown:
            raise ValueError(f'unknown box sets {sorted(unknown)}; choose from {BOX_SETS}')
        self.box_sets = tuple(box_sets)
        self.protocols = tuple(protocols)
        self.iou_thrs = tuple(float(t) for t in iou_thrs)
        self.per_type = per_type
        if box_convention is not None and box_convention not in BOX_CONVENTIONS:
            raise ValueError(
                f'box_convention must be one of {BOX_CONVENTIONS}, got {box_convention!r}'
            )
        # public attributes only when not the defaults, so that the protocol record of a
        # metric with the defaults (mmgrounding.apis.metric_protocol) is what it was before
        # these options
        self._official = official
        if official:
            self.official = official
        if box_convention is not None:
            self.box_convention = box_convention

    def process(self, data_batch: dict, data_samples: Sequence) -> None:
        for sample in data_samples:
            metainfo = field(sample, 'metainfo', sample)
            gt_boxes, index = gt_boxes_and_index(sample)
            if self._official:
                gt_boxes = official_gt_boxes(gt_boxes, box_convention_of(self))
            types = field(metainfo, 'phrase_types')
            entry = {}
            for box_set in self.box_sets:
                boxes = field(sample, f'pred_boxes_{box_set}')
                if boxes is None:
                    raise KeyError(
                        f'sample {field(metainfo, "img_path")} has no pred_boxes_{box_set}'
                    )
                boxes = boxes.detach().float().cpu().reshape(-1, 4)
                types = types or [[] for _ in range(len(boxes))]
                for protocol in self.protocols:
                    ious = phrase_box_ious(boxes, gt_boxes, index, protocol=protocol)
                    if protocol == 'union':
                        phrases = [p for p in range(len(boxes)) if bool((index == p).any())]
                        region = (
                            torch.stack([union_box(gt_boxes[index == p]) for p in phrases])
                            if phrases
                            else gt_boxes[:0]
                        )
                        hits = pointing_hits(
                            box_centres(boxes), region, torch.tensor(phrases, dtype=torch.long)
                        )
                    else:
                        hits = pointing_hits(box_centres(boxes), gt_boxes, index)
                    entry[(box_set, protocol)] = (ious.tolist(), hits.tolist())
            # one entry per sample: the evaluator truncates results to the dataset size
            self.results.append((entry, [tuple(t) for t in types]))

    def compute_metrics(self, results: list) -> dict:
        metrics = {}
        for box_set in self.box_sets:
            for protocol in self.protocols:
                ious = torch.tensor(
                    [i for entry, _ in results for i in entry[(box_set, protocol)][0]]
                )
                hits = [h for entry, _ in results for h in entry[(box_set, protocol)][1]]
                key = f'{box_set}/{protocol}'
                strict = self._official and box_set in STRICT_OFFICIAL_SETS
                for t, acc in accuracy_at_thresholds(ious, self.iou_thrs, strict=strict).items():
                    metrics[f'{key}/acc@{t:g}'] = acc
                metrics[f'{key}/miou'] = 100.0 * float(ious.mean()) if ious.numel() else 0.0
                metrics[f'{key}/pointit'] = mean_percent(hits)
                if self.per_type:
                    by_type = defaultdict(list)
                    for entry, types in results:
                        for iou, phrase_types in zip(entry[(box_set, protocol)][0], types):
                            for t in phrase_types:
                                by_type[t].append(iou > 0.5 if strict else iou >= 0.5)
                    metrics.update(
                        {f'{key}/{t}': mean_percent(v) for t, v in sorted(by_type.items())}
                    )
        return metrics
