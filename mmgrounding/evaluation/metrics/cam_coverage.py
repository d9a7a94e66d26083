"""CAM coverage of the phrase's box before and after attention mining (CAM-WSVG)."""

from typing import Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from mmgrounding.registry import METRICS

from ..functional.cam_coverage import cam_box_coverage
from .utils import field, gt_boxes_and_index


@METRICS.register_module()
class CAMCoverageMetric(BaseMetric):
    """Share (%) of each phrase's ground-truth box above the threshold of its CAM maps.

    For every map key (default: CAM-WSVG's ``pred_cam_raw``, the Grad-CAM map before the CAM
    encoder, and ``pred_heatmaps``, the refined map that attention mining trains) and every
    phrase with a non-zero map and a box: the map is upsampled to the original image, the
    pixels ≥ ``threshold`` form the region R, and the metric reports the mean over phrases of
    ``|R ∩ B| / |B|`` as ``<name>/coverage`` and of ``|R \\ B| / |R|`` as ``<name>/outside``
    (B the union of the phrase's boxes), plus ``<name>/phrases`` counted. A map of zeros
    (a query whose noun has no class) is skipped and counted in ``<name>/skipped``.

    Args:
        map_keys: ``{name: data-sample field}`` of (P, h, w) maps spanning the image.
        threshold: R's threshold (attention mining's σ = 0.5).
        collect_device, prefix: as in :class:`mmengine.evaluator.BaseMetric`.
    """

    default_prefix: Optional[str] = 'cam_coverage'

    def __init__(
        self,
        *,
        map_keys: Optional[dict] = None,
        threshold: float = 0.5,
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.map_keys = dict(map_keys or dict(raw='pred_cam_raw', refined='pred_heatmaps'))
        self.threshold = float(threshold)

    def process(self, data_batch: dict, data_samples: Sequence) -> None:
        for sample in data_samples:
            metainfo = field(sample, 'metainfo', sample)
            shape = field(metainfo, 'ori_shape')
            if shape is None:
                raise KeyError(f'sample {field(metainfo, "img_path")} has no ori_shape')
            size_hw = (int(shape[0]), int(shape[1]))
            gt_boxes, index = gt_boxes_and_index(sample)
            row = {}
            for name, key in self.map_keys.items():
                maps = field(sample, key)
                if maps is None:
                    raise KeyError(f'sample {field(metainfo, "img_path")} has no {key}')
                maps = maps.detach().float().cpu()  # (P, h, w)
                values, skipped = [], 0
                for p in range(maps.shape[0]):
                    boxes = gt_boxes[index == p]
                    if not len(boxes):
                        continue
                    if not bool(maps[p].gt(0).any()):
                        skipped += 1
                        continue
                    values.append(
                        cam_box_coverage(maps[p], boxes, size_hw, threshold=self.threshold)
                    )
                row[name] = (values, skipped)
            self.results.append(row)

    def compute_metrics(self, results: list) -> dict:
        metrics = {}
        for name in self.map_keys:
            values = [v for row in results for v in row[name][0]]
            skipped = sum(row[name][1] for row in results)
            pairs = torch.tensor(values, dtype=torch.float64).reshape(-1, 2)
            mean = pairs.mean(dim=0) if len(pairs) else torch.zeros(2, dtype=torch.float64)
            metrics[f'{name}/coverage'] = 100.0 * float(mean[0])
            metrics[f'{name}/outside'] = 100.0 * float(mean[1])
            metrics[f'{name}/phrases'] = float(len(pairs))
            metrics[f'{name}/skipped'] = float(skipped)
        return metrics
