"""Turn a data-list item's phrases into mmdet-style box fields."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.structures.bbox import HorizontalBoxes

from mmgrounding.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadGroundingAnnotations(BaseTransform):
    """Load the text and boxes of a grounding sample.

    Adds ``caption``, ``phrases`` (P texts), ``phrase_types``, ``phrase_spans`` and, as in
    mmdet, ``gt_bboxes`` (HorizontalBoxes, (K, 4)) with ``gt_bboxes_labels`` (K,) holding the
    index of the phrase each box belongs to, and ``gt_ignore_flags``. Because the phrase index
    travels in mmdet's label field, mmdet's own box transforms (Resize, RandomFlip, crops that
    drop boxes) keep boxes and phrases consistent.

    Place it after ``Resize`` in test pipelines so that ground truth stays in original image
    coordinates, which is where the model reports its predictions.
    """

    def transform(self, results: dict) -> dict:
        phrases = results.get('phrases', [])
        boxes, labels = [], []
        for index, phrase in enumerate(phrases):
            for box in phrase.get('boxes_xyxy', []):
                boxes.append(box)
                labels.append(index)
        results['phrase_texts'] = [p['text'] for p in phrases]
        results['phrase_types'] = [list(p.get('types', [])) for p in phrases]
        results['phrase_spans'] = [tuple(p.get('span', (-1, -1))) for p in phrases]
        results['gt_bboxes'] = HorizontalBoxes(np.asarray(boxes, np.float32).reshape(-1, 4))
        results['gt_bboxes_labels'] = np.asarray(labels, np.int64)
        results['gt_ignore_flags'] = np.zeros(len(labels), bool)
        return results
