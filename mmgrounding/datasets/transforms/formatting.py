"""Pack a pipeline's results into model inputs and a :class:`GroundingDataSample`."""
import numpy as np
from mmcv.transforms import BaseTransform, to_tensor
from mmdet.structures.bbox import BaseBoxes
from mmengine.structures import InstanceData

from mmgrounding.registry import TRANSFORMS
from mmgrounding.structures import GroundingDataSample


@TRANSFORMS.register_module()
class PackGroundingInputs(BaseTransform):
    """Pack the image as a (C, H, W) tensor and the rest as a GroundingDataSample.

    Cached detector regions (``region_*`` from :class:`LoadRegionFeatures`) become
    ``proposals``, an InstanceData with ``bboxes``, ``feats``, ``scores``, ``labels`` and
    ``class_probs`` and ``teacher_matched`` (:class:`LoadTeacherClassProbs`) when loaded.

    Cached word features (:class:`LoadWordFeatures`) become ``tokens``, an InstanceData of
    the caption's L tokens with ``feats`` (L, D) and ``offsets`` (L, 2), and, when loaded with
    negatives, ``substitutes``, an InstanceData of the M words with substitutes with
    ``word_index`` (M,), ``counts`` (M,) and ``feats`` (M, K, D) (zero after each count).

    Args:
        meta_keys: results keys copied into the sample's metainfo. ``phrase_texts`` is stored
            as ``phrases``; ``negatives`` (:class:`LoadCaptionNegatives`) is
            ``{word index: [substitute words]}``.
    """

    def __init__(self,
                 *,
                 meta_keys: tuple[str, ...] = ('img_id', 'img_path', 'ori_shape', 'img_shape',
                                               'scale_factor', 'flip', 'flip_direction',
                                               'caption', 'caption_id', 'phrase_texts',
                                               'phrase_types', 'phrase_spans',
                                               'negatives')) -> None:
        self.meta_keys = meta_keys

    def transform(self, results: dict) -> dict:
        packed = {}
        if 'img' in results:
            img = results['img']
            if img.ndim < 3:
                img = np.expand_dims(img, -1)
            # (H, W, C) -> (C, H, W), without a copy when the array is already contiguous
            if img.flags.c_contiguous:
                packed['inputs'] = to_tensor(img).permute(2, 0, 1).contiguous()
            else:
                packed['inputs'] = to_tensor(np.ascontiguousarray(img.transpose(2, 0, 1)))

        sample = GroundingDataSample()
        if 'gt_bboxes' in results:
            gt = InstanceData()
            boxes = results['gt_bboxes']
            gt.bboxes = boxes.tensor if isinstance(boxes, BaseBoxes) else to_tensor(boxes)
            gt.labels = to_tensor(results['gt_bboxes_labels'])
            sample.gt_instances = gt
        if 'region_boxes' in results:  # cached detector regions (LoadRegionFeatures)
            sample.proposals = InstanceData(**{
                name: to_tensor(results[f'region_{key}'])
                for name, key in (('bboxes', 'boxes'), ('feats', 'feats'), ('scores', 'scores'),
                                  ('labels', 'labels'), ('class_probs', 'class_probs'),
                                  ('teacher_matched', 'teacher_matched'))
                if f'region_{key}' in results})
        if 'token_feats' in results:  # cached word features (LoadWordFeatures)
            sample.tokens = InstanceData(feats=to_tensor(results['token_feats']),
                                         offsets=to_tensor(results['token_offsets']))
        if 'substitute_feats' in results:
            sample.substitutes = InstanceData(
                word_index=to_tensor(results['substitute_word_index']),
                counts=to_tensor(results['substitute_counts']),
                feats=to_tensor(results['substitute_feats']))
        meta = {}
        for key in self.meta_keys:
            if key in results:
                meta['phrases' if key == 'phrase_texts' else key] = results[key]
        sample.set_metainfo(meta)
        packed['data_samples'] = sample
        return packed

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
