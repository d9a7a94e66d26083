from typing import Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmgrounding.registry import METRICS

from ..functional import BOX_CONVENTIONS, IOU_CONVENTIONS, box_recall_hits, official_gt_boxes
from .utils import box_convention_of, field, gt_boxes_and_index


@METRICS.register_module()
class BoxRecallMetric(BaseMetric):
    """Recall@k (%) of the ranked ``pred_boxes`` of each phrase at IoU >= (or >) ``iou_thr``.

    R@1 is the box accuracy of the papers: InfoGround and AMC count IoU >= 0.5, CKD and
    CAM-WSVG IoU > 0.5 (``strict_iou=True``).

    Args:
        topk: the k values, reported as ``R@k``.
        protocol: ``'any'`` (any ground-truth box) or ``'union'`` (their union box).
        iou_thr: IoU threshold.
        strict_iou: correct only if IoU > ``iou_thr`` (instead of >=).
        iou: ``'continuous'`` (default, mmdet ``bbox_overlaps`` on our boxes) or
            ``'pixel_inclusive'``: the official InfoGround ``compute_iou`` (inclusive pixel
            areas) against the ground truth as the official code stores it
            (:func:`~mmgrounding.evaluation.functional.official_gt_boxes`: Flickr30k boxes
            get ``x2 - 1``, ``y2 - 1``).
        box_convention: how the ground truth was loaded, for ``iou='pixel_inclusive'``;
            None (default) reads the dataset's ``METAINFO['box_convention']``.
        allow_no_boxes: a model that predicts no boxes at all (heatmaps only, e.g. ALBEF
            without a region cache in its test pipeline) gets no ``R@k`` keys and a log
            line instead of an error (the leaderboard sets it, so such models show "-");
            a model that gives boxes for some samples but not others always raises.
        collect_device, prefix: as in :class:`mmengine.evaluator.BaseMetric`.
    """

    default_prefix: Optional[str] = 'box_recall'

    def __init__(
        self,
        *,
        topk: Sequence[int] = (1, 5, 10),
        protocol: str = 'any',
        iou_thr: float = 0.5,
        strict_iou: bool = False,
        iou: str = 'continuous',
        box_convention: Optional[str] = None,
        allow_no_boxes: bool = False,
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = tuple(topk)
        self.protocol = protocol
        self.iou_thr = iou_thr
        self.strict_iou = strict_iou
        if iou not in IOU_CONVENTIONS:
            raise ValueError(f'iou must be one of {IOU_CONVENTIONS}, got {iou!r}')
        if box_convention is not None and box_convention not in BOX_CONVENTIONS:
            raise ValueError(
                f'box_convention must be one of {BOX_CONVENTIONS}, got {box_convention!r}'
            )
        # public attributes only when not the defaults, so that the protocol record of a
        # metric with the defaults (mmgrounding.apis.metric_protocol) is what it was before
        # these options
        self._iou = iou
        if iou != 'continuous':
            self.iou = iou
        if box_convention is not None:
            self.box_convention = box_convention
        self.allow_no_boxes = allow_no_boxes

    def process(self, data_batch: dict, data_samples: Sequence) -> None:
        for sample in data_samples:
            boxes = field(sample, 'pred_boxes')
            if boxes is None:
                if self.allow_no_boxes:
                    self.results.append(None)
                    continue
                metainfo = field(sample, 'metainfo', sample)
                raise KeyError(f'sample {field(metainfo, "img_path")} has no pred_boxes')
            boxes = boxes.detach().float().cpu()  # (P, K, 4)
            gt_boxes, index = gt_boxes_and_index(sample)
            if self._iou == 'pixel_inclusive':
                gt_boxes = official_gt_boxes(gt_boxes, box_convention_of(self))
            # one entry per sample: the evaluator truncates results to the dataset size
            self.results.append(
                [
                    box_recall_hits(
                        boxes[p],
                        gt_boxes[index == p],
                        self.topk,
                        protocol=self.protocol,
                        iou_thr=self.iou_thr,
                        strict_iou=self.strict_iou,
                        iou=self._iou,
                    )
                    for p in range(boxes.shape[0])
                ]
            )

    def compute_metrics(self, results: list) -> dict:
        without = sum(sample is None for sample in results)
        if without:
            if without < len(results):
                raise KeyError(
                    f'{without} of {len(results)} samples have no pred_boxes: '
                    'Recall@k would count only some of the phrases'
                )
            MMLogger.get_current_instance().info(
                f'no pred_boxes in any of {len(results)} samples: Recall@k not computed'
            )
            return {}
        results = [phrase for sample in results for phrase in sample]
        if not results:
            return {f'R@{k}': 0.0 for k in self.topk}
        hits = torch.stack(results).float()  # (num_phrases, len(topk))
        return {f'R@{k}': 100.0 * float(hits[:, i].mean()) for i, k in enumerate(self.topk)}
