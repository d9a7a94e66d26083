"""Region feature statistics: computed once per split, stored in the cache, recomputed when
the split lists other images."""
import os

import numpy as np

from mmgrounding.datasets import RegionCache, region_feature_stats


def write_cache(root, features_by_id):
    cache = RegionCache.create(str(root), dict(detector={}, extraction={}))
    for img_id, feats in features_by_id.items():
        num = len(feats)
        cache.write(img_id, dict(boxes_xyxy=np.zeros((num, 4)), scores=np.ones(num),
                                 labels=np.zeros(num), features=np.asarray(feats, np.float32),
                                 image_hw=(8, 8)))
    return cache


def test_stats_are_stored_and_reused_until_the_split_changes(tmp_path):
    # image a: features (1, 2), (3, 2); image b: (5, 2) -> mean (3, 2), std (sqrt(8/3), 0 -> 1e-6)
    cache = write_cache(tmp_path, {'a': [[1, 2], [3, 2]], 'b': [[5, 2]]})
    cache.write_split('train', ['a', 'b'])
    mean, std = region_feature_stats(str(tmp_path), split='train')
    np.testing.assert_allclose(mean, [3, 2])
    np.testing.assert_allclose(std, [np.sqrt(8 / 3), 1e-6])
    assert os.path.isfile(tmp_path / 'stats' / 'train-topall.npz')

    # the stored numbers are used: a broken entry is not read again
    with open(cache.entry_path('b'), 'wb') as f:
        f.write(b'truncated')
    np.testing.assert_allclose(region_feature_stats(str(tmp_path), split='train')[0], [3, 2])

    # another image list: recomputed (top-1 regions of a only: (1, 2))
    cache.write_split('train', ['a'])
    mean, _ = region_feature_stats(str(tmp_path), split='train', topk=1)
    np.testing.assert_allclose(mean, [1, 2])
    mean, _ = region_feature_stats(str(tmp_path), split='train')  # all regions of a: (2, 2)
    np.testing.assert_allclose(mean, [2, 2])
