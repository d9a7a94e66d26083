"""Draw phrase heatmaps and boxes over an image."""
from typing import Optional

import cv2
import numpy as np
from mmengine.dist import master_only
from mmengine.visualization import Visualizer

from mmgrounding.registry import VISUALIZERS
from mmgrounding.structures import GroundingDataSample


def overlay_heatmap(image: np.ndarray, heatmap: np.ndarray, *, alpha: float = 0.5) -> np.ndarray:
    """Blend a heatmap (any resolution, spanning the image) over an RGB image.

    Args:
        image: (H, W, 3) uint8 RGB.
        heatmap: (h, w) non-negative map.
        alpha: weight of the heatmap colour.

    Returns:
        (H, W, 3) uint8 RGB.
    """
    height, width = image.shape[:2]
    heat = np.nan_to_num(heatmap.astype(np.float32))
    heat = heat - heat.min()
    heat = heat / heat.max() if heat.max() > 0 else heat
    heat = cv2.resize(heat, (width, height), interpolation=cv2.INTER_LINEAR)  # (H, W)
    coloured = cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]
    return (image * (1 - alpha) + coloured * alpha).astype(np.uint8)


@VISUALIZERS.register_module()
class GroundingVisualizer(Visualizer):
    """Draws, for each phrase of a sample, a panel: heatmap overlay, ground-truth boxes
    (green), the top predicted box (red) and the phrase, side by side in one picture.

    Args:
        max_phrases: panels per picture at most.
        **kwargs: passed to :class:`mmengine.visualization.Visualizer`.
    """

    def __init__(self, name: str = 'visualizer', *, max_phrases: int = 4, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.max_phrases = max_phrases

    def draw_phrase(self, image: np.ndarray, sample: GroundingDataSample,
                    index: int) -> np.ndarray:
        """One panel for phrase ``index`` of ``sample`` over ``image`` (H, W, 3) RGB."""
        panel = image
        if 'pred_heatmaps' in sample:
            panel = overlay_heatmap(image, sample.pred_heatmaps[index].detach().cpu().numpy())
        self.set_image(panel)
        gt = sample.phrase_boxes(index).cpu().numpy()
        if len(gt):
            self.draw_bboxes(gt, edge_colors='lime', line_widths=2)
        if 'pred_boxes' in sample:
            self.draw_bboxes(sample.pred_boxes[index, :1].detach().cpu().numpy(),
                             edge_colors='red', line_widths=2)
        text = sample.metainfo['phrases'][index]
        self.draw_texts(text, np.array([2, 2]), colors='white', font_sizes=8,
                        bboxes=dict(facecolor='black', alpha=0.6, pad=1))
        return self.get_image()

    def draw_sample(self, image: np.ndarray, sample: GroundingDataSample) -> np.ndarray:
        """Panels of the first ``max_phrases`` phrases, concatenated horizontally."""
        panels = [self.draw_phrase(image, sample, p)
                  for p in range(min(sample.num_phrases, self.max_phrases))]
        return np.concatenate(panels, axis=1) if panels else image

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: Optional[GroundingDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0) -> None:
        drawn = self.draw_sample(image, data_sample) if data_sample is not None else image
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            cv2.imwrite(out_file, drawn[..., ::-1])
        else:
            self.add_image(name, drawn, step)
