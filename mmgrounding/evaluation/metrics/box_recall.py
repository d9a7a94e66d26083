from typing import Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mmgrounding.registry import METRICS

from ..functional import box_recall_hits
from .utils import field, gt_boxes_and_index


@METRICS.register_module()
class BoxRecallMetric(BaseMetric):
    """Recall@k (%) of the ranked ``pred_boxes`` of each phrase at IoU >= ``iou_thr``.

    Args:
        topk: the k values, reported as ``R@k``.
        protocol: ``'any'`` (any ground-truth box) or ``'union'`` (their union box).
        iou_thr: IoU threshold.
        collect_device, prefix: as in :class:`mmengine.evaluator.BaseMetric`.
    """

    default_prefix: Optional[str] = 'box_recall'

    def __init__(self,
                 *,
                 topk: Sequence[int] = (1, 5, 10),
                 protocol: str = 'any',
                 iou_thr: float = 0.5,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = tuple(topk)
        self.protocol = protocol
        self.iou_thr = iou_thr

    def process(self, data_batch: dict, data_samples: Sequence) -> None:
        for sample in data_samples:
            boxes = field(sample, 'pred_boxes')
            if boxes is None:
                metainfo = field(sample, 'metainfo', sample)
                raise KeyError(f"sample {field(metainfo, 'img_path')} has no pred_boxes")
            boxes = boxes.detach().float().cpu()  # (P, K, 4)
            gt_boxes, index = gt_boxes_and_index(sample)
            # one entry per sample: the evaluator truncates results to the dataset size
            self.results.append([
                box_recall_hits(boxes[p], gt_boxes[index == p], self.topk,
                                protocol=self.protocol, iou_thr=self.iou_thr)
                for p in range(boxes.shape[0])
            ])

    def compute_metrics(self, results: list) -> dict:
        results = [phrase for sample in results for phrase in sample]
        if not results:
            return {f'R@{k}': 0.0 for k in self.topk}
        hits = torch.stack(results).float()  # (num_phrases, len(topk))
        return {f'R@{k}': 100.0 * float(hits[:, i].mean()) for i, k in enumerate(self.topk)}
