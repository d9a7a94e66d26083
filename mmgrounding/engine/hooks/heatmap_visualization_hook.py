"""Log the grounding figures of a few evaluation samples (TensorBoard, work dir)."""
import os
import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmengine.fileio import get
from mmengine.hooks import Hook
from mmengine.visualization import Visualizer

from mmgrounding.evaluation.functional import OFFICIAL_BOX_PROTOCOLS
from mmgrounding.evaluation.metrics import PointingGameMetric
from mmgrounding.evaluation.metrics.utils import box_convention_of
from mmgrounding.registry import HOOKS


@HOOKS.register_module()
class HeatmapVisualizationHook(Hook):
    """Draw the first sample of every ``interval``-th evaluation batch.

    The current visualizer draws it (``GroundingVisualizer``: one figure per sample with a
    panel per phrase, its heatmap, boxes, predicted point and hit). In validation the figures
    go to the visualizer's backends (TensorBoard and the local ``vis_data`` folder) under
    ``val_<image file>`` at the current training step; in testing with ``test_out_dir`` they
    are written as ``<img_id>_<caption_id>.png`` under ``work_dir/<timestamp>/test_out_dir``,
    without one they go to the backends at the batch index.

    Before each validation and test run the figures take the pointing protocol of the loop's
    ``PointingGameMetric`` (its ``spec``, whether it tests against the official boxes, and
    the box convention of the dataset or the metric), so that a HIT in a figure is a hit in
    the reported accuracy; a visualizer without these settings, or a loop without the metric,
    is left as it is.

    Args:
        draw: whether to draw at all (``tools/test.py --show-dir`` switches it on).
        interval: draw every ``interval``-th batch.
        test_out_dir: folder (relative to the run's log dir) for test pictures.
        follow_evaluator: set the visualizer's protocol from the evaluator (default); False
            keeps the visualizer's own.
    """

    priority = 'NORMAL'

    def __init__(self,
                 *,
                 draw: bool = False,
                 interval: int = 50,
                 test_out_dir: Optional[str] = None,
                 follow_evaluator: bool = True) -> None:
        self.draw = draw
        self.interval = interval
        self.test_out_dir = test_out_dir
        self.follow_evaluator = follow_evaluator

    def follow(self, evaluator) -> None:
        """Give the current visualizer the pointing protocol of ``evaluator``'s
        ``PointingGameMetric`` (the first one), if both have such settings."""
        visualizer = Visualizer.get_current_instance()
        if not self.draw or not self.follow_evaluator or not hasattr(visualizer, 'protocol'):
            return
        for metric in getattr(evaluator, 'metrics', []):
            if isinstance(metric, PointingGameMetric):
                visualizer.protocol = metric.spec
                visualizer.box_convention = box_convention_of(metric)
                visualizer.official_boxes = metric.protocol in OFFICIAL_BOX_PROTOCOLS
                return

    def before_val(self, runner) -> None:
        self.follow(runner.val_loop.evaluator)

    def before_test(self, runner) -> None:
        self.follow(runner.test_loop.evaluator)

    def _image(self, sample) -> np.ndarray:
        """The sample's original image, (H, W, 3) RGB."""
        img_bytes = get(sample.metainfo['img_path'])
        return mmcv.imfrombytes(img_bytes, channel_order='rgb')

    def after_val_iter(self, runner, batch_idx: int, data_batch: dict,
                       outputs: Sequence) -> None:
        if not self.draw or batch_idx % self.interval != 0 or not outputs:
            return
        visualizer = Visualizer.get_current_instance()
        sample = outputs[0]
        visualizer.add_datasample(
            f'val_{osp.basename(sample.metainfo["img_path"])}',
            self._image(sample),
            data_sample=sample,
            step=runner.iter)

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict,
                        outputs: Sequence) -> None:
        if not self.draw or batch_idx % self.interval != 0 or not outputs:
            return
        visualizer = Visualizer.get_current_instance()
        out_dir = None
        if self.test_out_dir is not None:
            out_dir = osp.join(runner.work_dir, runner.timestamp, self.test_out_dir)
            os.makedirs(out_dir, exist_ok=True)
        sample = outputs[0]
        stem = f'{sample.metainfo["img_id"]}_{sample.metainfo.get("caption_id", 0)}'
        visualizer.add_datasample(
            stem,
            self._image(sample),
            data_sample=sample,
            out_file=osp.join(out_dir, f'{stem}.png') if out_dir else None,
            step=batch_idx)
