"""LoadRegionFeatures: region boxes follow resize and flip as ground truth does."""
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose

from mmgrounding.datasets import Flickr30kEntitiesDataset
from mmgrounding.datasets.region_cache import RegionCache, RegionCacheError
from mmgrounding.registry import TRANSFORMS

FEATURE_DIM = 5


@pytest.fixture(scope='module')
def sample_and_cache(synthground_root, tmp_path_factory):
    """A SynthGround test sample and a cache whose boxes are the sample's ground truth."""
    dataset = Flickr30kEntitiesDataset(
        data_root=synthground_root, ann_file='flickr30k_entities/test.txt',
        data_prefix=dict(img='images/', annotations='flickr30k_entities/Annotations/',
                         sentences='flickr30k_entities/Sentences/'), pipeline=[])
    # a non-square image, so that a swapped width and height would show
    info = next(i for i in (dataset.get_data_info(k) for k in range(len(dataset)))
                if i['width'] != i['height'])
    boxes = np.array([b for p in info['phrases'] for b in p['boxes_xyxy']], np.float32)
    num = len(boxes)
    cache = RegionCache.create(str(tmp_path_factory.mktemp('regions')), dict(
        detector=dict(type='test'), extraction=dict(feature_dim=FEATURE_DIM)))
    cache.write(info['img_id'], dict(
        boxes_xyxy=boxes, scores=np.linspace(1, 0.5, num), labels=np.arange(num) % 3,
        features=np.arange(num * FEATURE_DIM, dtype=np.float32).reshape(num, FEATURE_DIM),
        class_probs=np.full((num, 4), 0.25, np.float32),
        image_hw=(info['height'], info['width'])))
    return info, cache


def run(pipeline, info):
    return Compose([TRANSFORMS.build(t) for t in pipeline])(dict(info))


def test_boxes_follow_resize_and_flip(sample_and_cache):
    info, cache = sample_and_cache
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadGroundingAnnotations'),
        dict(type='Resize', scale=(96, 80), keep_ratio=False),
        dict(type='RandomFlipWithText', prob=1.0),
        dict(type='LoadRegionFeatures', cache_dir=cache.root, with_class_probs=True),
    ]
    results = run(pipeline, info)
    assert results['flip'] and results['img_shape'] == (80, 96)
    # the cached boxes are the ground truth, so after the same resize and flip they must
    # equal mmdet's transformed gt_bboxes
    np.testing.assert_allclose(results['region_boxes'], results['gt_bboxes'].numpy(),
                               atol=1e-4)
    assert results['region_feats'].dtype == np.float32
    assert results['region_labels'].dtype == np.int64
    assert results['region_class_probs'].shape == (len(results['region_boxes']), 4)


def test_before_resize_boxes_stay_in_original_pixels(sample_and_cache):
    info, cache = sample_and_cache
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadRegionFeatures', cache_dir=cache.root, topk=2),
        dict(type='Resize', scale=(96, 80), keep_ratio=False),
        dict(type='LoadGroundingAnnotations'),
        dict(type='PackGroundingInputs'),
    ]
    sample = run(pipeline, info)['data_samples']
    proposals = sample.proposals
    gt = torch.tensor([b for p in info['phrases'] for b in p['boxes_xyxy']])
    torch.testing.assert_close(proposals.bboxes, gt[:2].float())
    torch.testing.assert_close(proposals.feats,
                               torch.arange(2 * FEATURE_DIM).reshape(2, FEATURE_DIM).float())
    assert proposals.scores[0] == 1 and 'class_probs' not in proposals


def test_features_without_the_image(sample_and_cache):
    info, cache = sample_and_cache
    results = run([dict(type='LoadRegionFeatures', cache_dir=cache.root)], info)
    assert results['region_feats'].shape[1] == FEATURE_DIM


def test_cache_of_another_image_size_is_refused(sample_and_cache):
    info, cache = sample_and_cache
    wrong = dict(info, height=info['height'] + 1)
    with pytest.raises(RegionCacheError, match=r'extracted from an image of \(\d+, \d+\)'):
        run([dict(type='LoadRegionFeatures', cache_dir=cache.root)], wrong)
    with pytest.raises(RegionCacheError, match='no entry'):
        run([dict(type='LoadRegionFeatures', cache_dir=cache.root)], dict(info, img_id='0'))


def test_geometry_without_a_homography_matrix():
    from mmgrounding.datasets.transforms.region_features import region_geometry

    # mmcv's Resize and RandomFlip record no homography_matrix: scale 2 x 0.5 to 200 x 50,
    # then a horizontal flip. Box [10, 20, 30, 40] -> [20, 10, 60, 20] -> x' = 200 - x
    results = dict(scale_factor=(2., .5), flip=True, flip_direction='horizontal',
                   img_shape=(50, 200))
    matrix = region_geometry(results)
    corners = matrix @ np.array([[10., 30.], [20., 40.], [1., 1.]])
    assert sorted(corners[0]) == [140., 180.] and sorted(corners[1]) == [10., 20.]
    assert region_geometry(dict(scale_factor=(1., 1.))) is None
