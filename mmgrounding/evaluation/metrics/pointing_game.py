from collections import defaultdict
from typing import Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmgrounding.registry import METRICS

from ..functional import box_centres, heatmap_peaks, pointing_hits
from .utils import field, gt_boxes_and_index, mean_percent


@METRICS.register_module()
class PointingGameMetric(BaseMetric):
    """Pointing accuracy (%) overall and per phrase type.

    A phrase is a hit when its predicted point lies inside any of its ground-truth boxes. The
    point is the peak of ``pred_heatmaps`` or the centre of the top-ranked ``pred_boxes``.

    Args:
        source: ``'heatmap'``, ``'box'`` or ``'auto'`` (heatmap when the sample has one).
        tolerance: pixels a point may lie outside a box and still hit.
        per_type: also report the accuracy of each phrase type (a phrase with several types
            counts for each).
        collect_device, prefix: as in :class:`mmengine.evaluator.BaseMetric`.
    """

    default_prefix: Optional[str] = 'pointing'

    def __init__(self,
                 *,
                 source: str = 'auto',
                 tolerance: float = 0.0,
                 per_type: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if source not in ('auto', 'heatmap', 'box'):
            raise ValueError(f"source must be 'auto', 'heatmap' or 'box', got {source!r}")
        self.source = source
        self.tolerance = tolerance
        self.per_type = per_type

    def process(self, data_batch: dict, data_samples: Sequence) -> None:
        for sample in data_samples:
            metainfo = field(sample, 'metainfo', sample)
            ori_hw = tuple(field(metainfo, 'ori_shape'))[:2]
            heatmaps = field(sample, 'pred_heatmaps')
            use_heatmap = self.source == 'heatmap' or (self.source == 'auto'
                                                       and heatmaps is not None)
            if use_heatmap:
                if heatmaps is None:
                    raise KeyError(f"sample {field(metainfo, 'img_path')} has no pred_heatmaps")
                points = heatmap_peaks(heatmaps.detach().float().cpu(), ori_hw)
            else:
                boxes = field(sample, 'pred_boxes')
                if boxes is None:
                    raise KeyError(f"sample {field(metainfo, 'img_path')} has no prediction")
                points = box_centres(boxes.detach().float().cpu()[:, 0])
            gt_boxes, index = gt_boxes_and_index(sample)
            hits = pointing_hits(points, gt_boxes, index, tolerance=self.tolerance)
            types = field(metainfo, 'phrase_types') or [[] for _ in range(len(hits))]
            # one entry per sample: the evaluator truncates results to the dataset size
            self.results.append([(hit, tuple(t)) for hit, t in zip(hits.tolist(), types)])

    def compute_metrics(self, results: list) -> dict:
        results = [phrase for sample in results for phrase in sample]
        metrics = {'accuracy': mean_percent([hit for hit, _ in results])}
        if self.per_type:
            by_type = defaultdict(list)
            for hit, types in results:
                for t in types:
                    by_type[t].append(hit)
            metrics.update({t: mean_percent(v) for t, v in sorted(by_type.items())})
        MMLogger.get_current_instance().info(
            f'pointing game over {len(results)} phrases: {metrics["accuracy"]:.2f}%')
        return metrics
