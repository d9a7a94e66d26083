"""Grounders that look at neither image nor text: the floor every method must beat."""
import zlib

import numpy as np
import torch
from torch import Tensor

from mmgrounding.registry import MODELS
from mmgrounding.structures import SampleList

from .base import BaseGrounder


class _UntrainedGrounder(BaseGrounder):

    def loss(self, inputs: Tensor, data_samples: SampleList, **kwargs) -> dict:
        raise RuntimeError(f'{type(self).__name__} is a fixed baseline; it has nothing to train. '
                           'Evaluate it with tools/test.py.')


@MODELS.register_module()
class CentreBaselineGrounder(_UntrainedGrounder):
    """Points at the image centre: a Gaussian heatmap peaked there and a centred box.

    Args:
        grid_size: heatmap cells per side (odd, so that one cell's centre is the image centre).
        sigma: Gaussian width as a fraction of the image side.
        box_fraction: the centred box covers this fraction of the width and of the height.
        data_preprocessor: as in :class:`mmengine.model.BaseModel`.
    """

    def __init__(self,
                 *,
                 grid_size: int = 33,
                 sigma: float = 0.25,
                 box_fraction: float = 0.5,
                 data_preprocessor: dict | None = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        if grid_size % 2 != 1:
            raise ValueError(f'grid_size must be odd, got {grid_size}')
        self.grid_size = grid_size
        self.sigma = sigma
        self.box_fraction = box_fraction

    def _centre_heatmap(self, device: torch.device) -> Tensor:
        centres = (torch.arange(self.grid_size, device=device) + 0.5) / self.grid_size
        offsets = (centres - 0.5)**2  # (g,) squared distance to the centre, in image sides
        dist2 = offsets[:, None] + offsets[None, :]  # (g, g)
        return torch.exp(-dist2 / (2 * self.sigma**2))

    def predict(self, inputs: Tensor, data_samples: SampleList, **kwargs) -> SampleList:
        heatmap = self._centre_heatmap(inputs.device)
        for sample in data_samples:
            num = sample.num_phrases
            height, width = sample.metainfo['ori_shape'][:2]
            half_w, half_h = width * self.box_fraction / 2, height * self.box_fraction / 2
            box = inputs.new_tensor(
                [width / 2 - half_w, height / 2 - half_h, width / 2 + half_w, height / 2 + half_h])
            sample.pred_heatmaps = heatmap.expand(num, -1, -1).clone()  # (P, g, g)
            sample.pred_boxes = box.expand(num, 1, 4).clone()  # (P, 1, 4)
            sample.pred_scores = inputs.new_ones((num, 1))
        return data_samples


@MODELS.register_module()
class RandomBaselineGrounder(_UntrainedGrounder):
    """Points at a uniformly random pixel and proposes random boxes, reproducibly.

    The draw of each phrase depends only on ``seed``, the image id, the caption id and the
    phrase index, so results do not change with batch size, order or number of processes.

    Args:
        seed: base seed.
        num_boxes: random boxes per phrase (K).
        grid_size: heatmap cells per side; the heatmap is one-hot at the random cell.
        data_preprocessor: as in :class:`mmengine.model.BaseModel`.
    """

    def __init__(self,
                 *,
                 seed: int = 0,
                 num_boxes: int = 10,
                 grid_size: int = 64,
                 data_preprocessor: dict | None = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        self.seed = seed
        self.num_boxes = num_boxes
        self.grid_size = grid_size

    def _rng(self, sample, phrase_index: int) -> np.random.Generator:
        img_key = zlib.crc32(str(sample.metainfo.get('img_id', sample.metainfo.get('img_path')))
                             .encode())
        caption_key = int(sample.metainfo.get('caption_id', 0))
        return np.random.default_rng([self.seed, img_key, caption_key, phrase_index])

    def predict(self, inputs: Tensor, data_samples: SampleList, **kwargs) -> SampleList:
        g = self.grid_size
        for sample in data_samples:
            height, width = sample.metainfo['ori_shape'][:2]
            num = sample.num_phrases
            heatmaps = inputs.new_zeros((num, g, g))
            boxes = inputs.new_zeros((num, self.num_boxes, 4))
            for p in range(num):
                rng = self._rng(sample, p)
                row, col = rng.integers(0, g, size=2)
                heatmaps[p, row, col] = 1.0
                # boxes: uniform corners, sorted so that x1 < x2 and y1 < y2
                xs = np.sort(rng.uniform(0, width, size=(self.num_boxes, 2)), axis=1)
                ys = np.sort(rng.uniform(0, height, size=(self.num_boxes, 2)), axis=1)
                boxes[p] = inputs.new_tensor(
                    np.stack([xs[:, 0], ys[:, 0], xs[:, 1], ys[:, 1]], axis=1))
            sample.pred_heatmaps = heatmaps  # (P, g, g)
            sample.pred_boxes = boxes  # (P, K, 4)
            sample.pred_scores = inputs.new_ones((num, self.num_boxes))
        return data_samples


@MODELS.register_module()
class DetectorScoreBaselineGrounder(_UntrainedGrounder):
    """Ranks the cached detector proposals by detection score, whatever the phrase says.

    The best single-proposal baseline of the proposal-based methods (InfoGround, CKD): every
    phrase of an image gets the same ranking, the detector's most confident box first
    (ties keep the cache's order, which is best first). Needs ``LoadRegionFeatures`` in the
    test pipeline (``data_samples[i].proposals`` with ``bboxes`` and ``scores``); boxes are
    reported in the pixels the pipeline left them in (original pixels when the regions are
    loaded before any resize).

    Args:
        data_preprocessor: as in :class:`mmengine.model.BaseModel`.
    """

    def predict(self, inputs: Tensor | None, data_samples: SampleList, **kwargs) -> SampleList:
        for sample in data_samples:
            if 'proposals' not in sample:
                raise KeyError(f"sample {sample.metainfo.get('img_path')} has no proposals; "
                               'add LoadRegionFeatures to the test pipeline')
            scores = sample.proposals.scores.float()  # (K,)
            order = scores.argsort(descending=True, stable=True)
            num = sample.num_phrases
            sample.pred_boxes = sample.proposals.bboxes.float()[order].expand(num, -1, -1).clone()
            sample.pred_scores = scores[order].expand(num, -1).clone()  # (P, K)
        return data_samples
