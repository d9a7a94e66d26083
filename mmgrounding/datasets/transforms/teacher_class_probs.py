"""CKD's teacher: class probabilities of a second detector, matched to the feature boxes."""

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmdet.structures.bbox import bbox_overlaps

from mmgrounding.datasets.region_cache import RegionCache, RegionCacheError
from mmgrounding.registry import TRANSFORMS

from .region_features import check_entry_size, project_region_boxes


def match_teacher_class_probs(
    student_boxes: np.ndarray,
    teacher_boxes: np.ndarray,
    teacher_probs: np.ndarray,
    *,
    iou_thr: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Give each feature box the class probabilities of the teacher box it overlaps most.

    Args:
        student_boxes: (K, 4) xyxy boxes whose features the grounder reads.
        teacher_boxes: (T, 4) xyxy boxes of the teacher detector, same frame.
        teacher_probs: (T, C + 1) their class probabilities, background last.
        iou_thr: a feature box whose best IoU is below it gets the background one-hot
            (it takes no part in the pseudo labels, whose background column is unused).

    Returns:
        ``(probs, matched)``: (K, C + 1) probabilities and (K,) bool, which boxes matched.
    """
    num, width = student_boxes.shape[0], teacher_probs.shape[1]
    background = np.zeros((num, width), np.float32)
    background[:, -1] = 1.0
    if num == 0 or teacher_boxes.shape[0] == 0:
        return background, np.zeros(num, bool)
    ious = bbox_overlaps(
        torch.as_tensor(student_boxes, dtype=torch.float32),
        torch.as_tensor(teacher_boxes, dtype=torch.float32),
    ).numpy()  # (K, T)
    best = ious.argmax(axis=1)
    matched = ious[np.arange(num), best] >= iou_thr
    probs = np.where(matched[:, None], teacher_probs[best].astype(np.float32), background)
    return probs, matched


@TRANSFORMS.register_module()
class LoadTeacherClassProbs(BaseTransform):
    """CKD's separate teacher: ``region_class_probs`` from another detector's region cache.

    The paper's main rows distil the class probabilities of one detector (e.g. trained on
    Open Images) into region features of another (the Visual Genome bottom-up model). Place
    this after :class:`LoadRegionFeatures` (the feature cache); each of its boxes gets the
    class probabilities of the teacher box of highest IoU (mmdet's ``bbox_overlaps``; the
    teacher boxes are mapped into the feature boxes' frame and clipped as
    :class:`LoadRegionFeatures` does, and a teacher entry of another image size raises), or the
    background one-hot when that IoU is below ``iou_thr`` (interpretation: the paper does
    not say how the two box sets are matched). Sets ``region_class_probs`` (K, C + 1) and
    ``region_teacher_matched`` (K,) bool (packed as ``proposals.teacher_matched``;
    :class:`~mmgrounding.models.CKDGrounder` logs the matched fraction as
    ``teacher_match_rate``); counts the unmatched boxes in ``num_unmatched``. The
    teacher's classes (``meta.json`` of its cache) are the ones the grounder maps phrases to.

    Args:
        cache_dir: the teacher's region cache (with ``class_probs``).
        iou_thr: the least IoU of a match.
        topk: teacher boxes read per image (default: all stored).
    """

    def __init__(self, cache_dir: str, *, iou_thr: float = 0.5, topk: int | None = None) -> None:
        self.cache_dir = cache_dir
        self.iou_thr = iou_thr
        self.topk = topk
        self.num_unmatched = 0
        self._cache: RegionCache | None = None  # opened on first use, in each worker

    @property
    def cache(self) -> RegionCache:
        if self._cache is None:
            self._cache = RegionCache(self.cache_dir)
        return self._cache

    def transform(self, results: dict) -> dict:
        if 'region_boxes' not in results:
            raise KeyError(
                'LoadTeacherClassProbs needs region_boxes: put it after LoadRegionFeatures'
            )
        img_id = str(results['img_id'])
        entry = self.cache.read(img_id, fields=('boxes_xyxy', 'class_probs'), topk=self.topk)
        if 'class_probs' not in entry:
            raise RegionCacheError(
                f'{self.cache.entry_path(img_id)} (image {img_id}): the '
                'teacher cache stores no class_probs'
            )
        check_entry_size(self.cache, img_id, entry, results)  # a teacher of other images
        # the feature boxes' frame, clipped as LoadRegionFeatures clips them
        teacher_boxes = project_region_boxes(entry['boxes_xyxy'], results)
        probs, matched = match_teacher_class_probs(
            results['region_boxes'], teacher_boxes, entry['class_probs'], iou_thr=self.iou_thr
        )
        results['region_class_probs'] = probs
        results['region_teacher_matched'] = matched
        self.num_unmatched += int((~matched).sum())
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(cache_dir={self.cache_dir!r}, iou_thr={self.iou_thr}, '
            f'topk={self.topk})'
        )
