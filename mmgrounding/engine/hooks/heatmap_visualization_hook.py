"""Log the grounding figures of a few evaluation samples (TensorBoard, work dir)."""
import os
import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmengine.fileio import get
from mmengine.hooks import Hook
from mmengine.visualization import Visualizer

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

    Args:
        draw: whether to draw at all (``tools/test.py --show-dir`` switches it on).
        interval: draw every ``interval``-th batch.
        test_out_dir: folder (relative to the run's log dir) for test pictures.
    """

    priority = 'NORMAL'

    def __init__(self,
                 *,
                 draw: bool = False,
                 interval: int = 50,
                 test_out_dir: Optional[str] = None) -> None:
        self.draw = draw
        self.interval = interval
        self.test_out_dir = test_out_dir

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
