"""Load cached detector boxes and region features into a pipeline."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.structures.bbox import HorizontalBoxes

from mmgrounding.datasets.region_cache import RegionCache, RegionCacheError
from mmgrounding.registry import TRANSFORMS


def region_geometry(results: dict) -> np.ndarray | None:
    """The 3x3 map from original image pixels to the current image, None for identity.

    mmdet's geometric transforms (``Resize``, ``RandomFlip`` and so ``RandomFlipWithText``,
    ``RandomCrop``, ``RandomAffine``, ...) accumulate theirs in ``homography_matrix``.
    Without it (mmcv's own ``Resize`` / ``RandomFlip``), ``scale_factor`` and ``flip`` /
    ``flip_direction`` describe a resize followed by a horizontal flip.
    """
    if results.get('homography_matrix') is not None:
        return np.asarray(results['homography_matrix'], np.float32)
    matrix = np.eye(3, dtype=np.float32)
    if results.get('scale_factor') is not None:
        w_scale, h_scale = results['scale_factor'][:2]
        matrix = np.diag([w_scale, h_scale, 1.]).astype(np.float32)
    if results.get('flip') and results.get('flip_direction') == 'horizontal':
        width = results['img_shape'][1]
        matrix = np.array([[-1, 0, width], [0, 1, 0], [0, 0, 1]], np.float32) @ matrix
    elif results.get('flip'):
        raise ValueError(f"LoadRegionFeatures: no homography_matrix for a "
                         f"{results.get('flip_direction')} flip")
    return None if np.array_equal(matrix, np.eye(3)) else matrix


def project_region_boxes(boxes: np.ndarray, results: dict) -> np.ndarray:
    """(K, 4) xyxy boxes in original image pixels -> the frame of the image at this point of
    the pipeline (:func:`region_geometry`), clipped to ``img_shape``."""
    boxes = boxes.astype(np.float32)
    matrix = region_geometry(results)
    if matrix is None:
        return boxes
    projected = HorizontalBoxes(boxes)
    projected.project_(matrix)
    if results.get('img_shape') is not None:
        projected.clip_(results['img_shape'][:2])
    return projected.numpy()


def check_entry_size(cache: RegionCache, img_id: str, entry: dict, results: dict) -> None:
    """Raise if a cache entry was extracted from an image of another size than the sample's
    original (``ori_shape``, else ``height``/``width``): a cache of other images. Entries
    without a stored size (``image_hw`` (-1, -1)) and samples without one pass."""
    stored_hw = tuple(int(v) for v in entry['image_hw'])
    if results.get('ori_shape') is not None:
        sample_hw = tuple(int(v) for v in results['ori_shape'][:2])
    elif results.get('height') and results.get('width'):
        sample_hw = int(results['height']), int(results['width'])
    else:
        return
    if stored_hw[0] > 0 and stored_hw != sample_hw:
        raise RegionCacheError(
            f'{cache.entry_path(img_id)} (image {img_id}): extracted from an image '
            f'of {stored_hw} (H, W), but the sample is {sample_hw}'
        )


@TRANSFORMS.register_module()
class LoadRegionFeatures(BaseTransform):
    """Load the detector boxes and region features of the sample's image from a cache.

    The cache (``tools/extract_proposals.py``, ``docs/proposals.md``) stores boxes in
    original image pixels. They are mapped into the frame of the image at this point of the
    pipeline (see :func:`region_geometry`) and clipped to ``img_shape``; no box is dropped,
    so the rows of all region fields stay aligned. Hence:

    - training: place it after ``Resize`` and ``RandomFlipWithText``; the boxes follow the
      image as ``gt_bboxes`` do;
    - testing: place it before ``Resize``; the boxes stay in original image pixels, where
      models report their predictions (as ground truth loaded after ``Resize``).

    A transform placed after this one does not move the region boxes. Nothing but the
    boxes depends on the image, so a pipeline without ``LoadImageFromFile`` (region
    features only) works too.

    Adds ``region_boxes`` (K, 4) float32 xyxy, ``region_feats`` (K, D) float32,
    ``region_scores`` (K,) float32, ``region_labels`` (K,) int64 (detector class) and, with
    ``with_class_probs``, ``region_class_probs`` (K, C+1) float32 (background last).

    Args:
        cache_dir: the region cache folder (configs write ``data_root + 'regions/...'``).
        topk: use the best ``topk`` boxes of each image (default: all stored).
        with_class_probs: also load the class probabilities.
        check_size: raise if the image size stored with the entry differs from the
            sample's original size (``ori_shape``, else ``height``/``width``): a cache of
            other images.
    """

    def __init__(self,
                 cache_dir: str,
                 *,
                 topk: int | None = None,
                 with_class_probs: bool = False,
                 check_size: bool = True) -> None:
        if topk is not None and topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        self.cache_dir = cache_dir
        self.topk = topk
        self.with_class_probs = with_class_probs
        self.check_size = check_size
        self._cache: RegionCache | None = None  # opened on first use, in each worker
        self.fields = ('boxes_xyxy', 'scores', 'labels', 'features') + (
            ('class_probs', ) if with_class_probs else ())

    @property
    def cache(self) -> RegionCache:
        if self._cache is None:
            self._cache = RegionCache(self.cache_dir)
        return self._cache

    def transform(self, results: dict) -> dict:
        img_id = str(results['img_id'])
        entry = self.cache.read(img_id, fields=self.fields, topk=self.topk)
        if 'class_probs' in self.fields and 'class_probs' not in entry:
            raise RegionCacheError(f'{self.cache.entry_path(img_id)} (image {img_id}): no '
                                   'class_probs stored; use with_class_probs=False')
        if self.check_size:
            check_entry_size(self.cache, img_id, entry, results)
        boxes = project_region_boxes(entry['boxes_xyxy'], results)
        results['region_boxes'] = boxes
        results['region_feats'] = entry['features'].astype(np.float32)
        results['region_scores'] = entry['scores'].astype(np.float32)
        results['region_labels'] = entry['labels'].astype(np.int64)
        if self.with_class_probs:
            results['region_class_probs'] = entry['class_probs'].astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(cache_dir={self.cache_dir!r}, topk={self.topk}, '
                f'with_class_probs={self.with_class_probs}, check_size={self.check_size})')
