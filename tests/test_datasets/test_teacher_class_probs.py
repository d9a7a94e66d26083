"""CKD's separate teacher: class probabilities of a second region cache, matched by IoU."""

import numpy as np
import pytest
from mmcv.transforms import Compose

from mmgrounding.datasets.region_cache import RegionCache
from mmgrounding.datasets.transforms.teacher_class_probs import (
    LoadTeacherClassProbs,
    match_teacher_class_probs,
)
from mmgrounding.registry import TRANSFORMS

# feature boxes: f0 [0, 0, 10, 10], f1 [20, 0, 30, 10], f2 [50, 50, 60, 60]
FEATURE_BOXES = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [50, 50, 60, 60]], np.float32)
# teacher boxes: t0 [0, 0, 10, 8] (IoU with f0 = 80/100 = 0.8), t1 [22, 0, 30, 10] (IoU with
# f1 = 80/100 = 0.8, with f0 0), t2 [55, 55, 65, 65] (IoU with f2 = 25/175 = 0.14)
TEACHER_BOXES = np.array([[0, 0, 10, 8], [22, 0, 30, 10], [55, 55, 65, 65]], np.float32)
# 2 classes + background
TEACHER_PROBS = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.5, 0.5, 0.0]], np.float32)


def test_match_by_iou_and_background_below_the_threshold():
    probs, matched = match_teacher_class_probs(FEATURE_BOXES, TEACHER_BOXES, TEACHER_PROBS)
    assert matched.tolist() == [True, True, False]
    np.testing.assert_allclose(probs, [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.0, 0.0, 1.0]])
    # at IoU 0.1 the third box matches t2 (0.14)
    probs, matched = match_teacher_class_probs(
        FEATURE_BOXES, TEACHER_BOXES, TEACHER_PROBS, iou_thr=0.1
    )
    assert matched.tolist() == [True, True, True]
    np.testing.assert_allclose(probs[2], [0.5, 0.5, 0.0])
    empty, none = match_teacher_class_probs(
        FEATURE_BOXES, np.zeros((0, 4), np.float32), np.zeros((0, 3), np.float32)
    )
    assert not none.any() and (empty[:, -1] == 1).all()


def make_cache(root, boxes, *, class_probs=None, dim=4, image_hw=(100, 100)):
    cache = RegionCache.create(
        str(root), dict(detector=dict(type='test'), extraction=dict(feature_dim=dim))
    )
    entry = dict(
        boxes_xyxy=boxes,
        scores=np.ones(len(boxes)),
        labels=np.zeros(len(boxes)),
        features=np.ones((len(boxes), dim), np.float32),
        image_hw=image_hw,
    )
    if class_probs is not None:
        entry['class_probs'] = class_probs
    cache.write('7', entry)
    return str(root)


def test_pipeline_replaces_the_feature_cache_class_probs(tmp_path):
    features = make_cache(
        tmp_path / 'features', FEATURE_BOXES, class_probs=np.full((3, 5), 0.2, np.float32)
    )
    teacher = make_cache(tmp_path / 'teacher', TEACHER_BOXES, class_probs=TEACHER_PROBS)
    pipeline = Compose(
        [
            dict(type='LoadRegionFeatures', cache_dir=features, with_class_probs=True),
            dict(type='LoadTeacherClassProbs', cache_dir=teacher),
        ]
    )
    results = pipeline(dict(img_id=7, height=100, width=100))
    np.testing.assert_allclose(
        results['region_class_probs'], [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.0, 0.0, 1.0]]
    )
    assert results['region_teacher_matched'].tolist() == [True, True, False]
    assert pipeline.transforms[1].num_unmatched == 1
    assert isinstance(
        TRANSFORMS.build(dict(type='LoadTeacherClassProbs', cache_dir=teacher)),
        LoadTeacherClassProbs,
    )
    # a teacher without class_probs, or no feature boxes before it: clear errors
    plain = make_cache(tmp_path / 'plain', TEACHER_BOXES)
    with pytest.raises(Exception, match='class_probs'):
        Compose(
            [
                dict(type='LoadRegionFeatures', cache_dir=features),
                dict(type='LoadTeacherClassProbs', cache_dir=plain),
            ]
        )(dict(img_id=7))
    with pytest.raises(KeyError, match='after LoadRegionFeatures'):
        LoadTeacherClassProbs(teacher)(dict(img_id=7))


def test_teacher_boxes_share_the_feature_boxes_frame_and_clipping(tmp_path):
    # both detectors found [90, 0, 130, 10], past the right border of the 100 x 100 image;
    # after a 2x resize the feature box is [180, 0, 260, 20] clipped to [180, 0, 200, 20] by
    # LoadRegionFeatures. Unclipped, the teacher's copy would overlap it by IoU 20 / 80 = 0.25
    # (no match at 0.5); clipped alike, by 1.
    box = np.array([[90, 0, 130, 10]], np.float32)
    features = make_cache(tmp_path / 'features', box)
    teacher = make_cache(tmp_path / 'teacher', box, class_probs=TEACHER_PROBS[:1])
    pipeline = Compose(
        [
            dict(type='LoadRegionFeatures', cache_dir=features),
            dict(type='LoadTeacherClassProbs', cache_dir=teacher),
        ]
    )
    results = pipeline(
        dict(img_id=7, ori_shape=(100, 100), img_shape=(200, 200), scale_factor=(2.0, 2.0))
    )
    np.testing.assert_allclose(results['region_boxes'], [[180, 0, 200, 20]])
    assert results['region_teacher_matched'].tolist() == [True]
    np.testing.assert_allclose(results['region_class_probs'], TEACHER_PROBS[:1])


def test_teacher_cache_of_other_images_is_refused(tmp_path):
    features = make_cache(tmp_path / 'features', FEATURE_BOXES)
    teacher = make_cache(
        tmp_path / 'teacher', TEACHER_BOXES, class_probs=TEACHER_PROBS, image_hw=(80, 120)
    )
    pipeline = Compose(
        [
            dict(type='LoadRegionFeatures', cache_dir=features),
            dict(type='LoadTeacherClassProbs', cache_dir=teacher),
        ]
    )
    with pytest.raises(Exception, match=r'image 7\): extracted from an image of \(80, 120\)'):
        pipeline(dict(img_id=7, height=100, width=100))


def test_ckd_logs_the_share_of_matched_feature_boxes(tmp_path):
    import torch

    from mmgrounding.registry import MODELS
    from tests.test_models.ckd_tiny import SHAPES, tiny_ckd_cfg

    features = make_cache(tmp_path / 'features', FEATURE_BOXES, dim=16)
    teacher = make_cache(
        tmp_path / 'teacher', TEACHER_BOXES, class_probs=np.eye(3, len(SHAPES) + 1, dtype='f4')
    )
    pipeline = Compose(
        [
            dict(type='LoadRegionFeatures', cache_dir=features),
            dict(type='LoadTeacherClassProbs', cache_dir=teacher),
            dict(type='PackGroundingInputs', meta_keys=('img_id', 'phrase_texts')),
        ]
    )
    packed = pipeline(dict(img_id=7, height=100, width=100, phrase_texts=['a circle']))
    sample = packed['data_samples']
    assert sample.proposals.teacher_matched.tolist() == [True, True, False]
    vocab = tmp_path / 'vocab.txt'
    vocab.write_text('[PAD]\n[UNK]\na\ncircle\n')
    model = MODELS.build(tiny_ckd_cfg(str(vocab)))
    # two feature boxes of three found a teacher box in the first image, all of the second
    other = pipeline(dict(img_id=7, height=100, width=100, phrase_texts=['a circle']))
    other = other['data_samples']
    other.set_metainfo(dict(img_id=8))
    other.proposals.teacher_matched = torch.ones(3, dtype=torch.bool)
    losses = model.loss(None, [sample, other])
    assert float(losses['teacher_match_rate']) == pytest.approx(5 / 6)
    assert {'loss_is', 'loss_rp'} <= set(losses)
