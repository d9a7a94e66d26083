"""The data sample that carries one image–caption pair through the pipeline."""
from typing import Optional

import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData
from torch import Tensor


class GroundingDataSample(DetDataSample):
    """An image, a caption and its phrases; ground truth and predictions per phrase.

    Metainfo (set by :class:`PackGroundingInputs`):
        img_id, img_path, ori_shape (H, W), img_shape (H, W), scale_factor (w, h), flip,
        flip_direction, caption (str), phrases (list[str], P entries), phrase_types
        (list[list[str]]), phrase_spans (list[tuple[int, int]], character offsets in caption).

    Data fields:
        gt_instances (InstanceData): ``bboxes`` (K, 4) xyxy boxes of all phrases and
            ``labels`` (K,) the index in ``phrases`` of the phrase each box belongs to. A
            phrase may own several boxes.
        proposals (InstanceData): cached detector regions (``LoadRegionFeatures``):
            ``bboxes`` (K, 4) xyxy, ``feats`` (K, D), ``scores`` (K,), ``labels`` (K,) and
            optionally ``class_probs`` (K, C+1), best first.
        pred_heatmaps (Tensor): (P, h, w) non-negative maps whose grid spans the whole
            *original* image (no padding), at any resolution.
        pred_boxes (Tensor): (P, K, 4) xyxy boxes in original image pixels, ranked per phrase
            by ``pred_scores`` (P, K), best first.
    """

    @property
    def num_phrases(self) -> int:
        return len(self.metainfo.get('phrases', []))

    @property
    def pred_heatmaps(self) -> Tensor:
        return self._pred_heatmaps

    @pred_heatmaps.setter
    def pred_heatmaps(self, value: Tensor) -> None:
        self.set_field(value, '_pred_heatmaps', dtype=Tensor)

    @pred_heatmaps.deleter
    def pred_heatmaps(self) -> None:
        del self._pred_heatmaps

    @property
    def pred_boxes(self) -> Tensor:
        return self._pred_boxes

    @pred_boxes.setter
    def pred_boxes(self, value: Tensor) -> None:
        self.set_field(value, '_pred_boxes', dtype=Tensor)

    @pred_boxes.deleter
    def pred_boxes(self) -> None:
        del self._pred_boxes

    @property
    def pred_scores(self) -> Tensor:
        return self._pred_scores

    @pred_scores.setter
    def pred_scores(self, value: Tensor) -> None:
        self.set_field(value, '_pred_scores', dtype=Tensor)

    @pred_scores.deleter
    def pred_scores(self) -> None:
        del self._pred_scores

    def phrase_boxes(self, index: int) -> Tensor:
        """(n, 4) ground-truth xyxy boxes of phrase ``index``."""
        gt: Optional[InstanceData] = self.get('gt_instances')
        if gt is None or len(gt) == 0:
            return torch.zeros((0, 4))
        bboxes = gt.bboxes
        bboxes = bboxes.tensor if hasattr(bboxes, 'tensor') else bboxes
        return bboxes[gt.labels == index]


SampleList = list[GroundingDataSample]
