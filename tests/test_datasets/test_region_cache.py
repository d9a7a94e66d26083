"""The region cache: entries round-trip, damage is reported by name, the HDF5 importer."""
import os
import os.path as osp

import h5py
import numpy as np
import pytest

from mmgrounding.datasets.region_cache import (
    CACHE_FORMAT,
    RegionCache,
    RegionCacheError,
    entry_name,
    export_bottom_up_h5,
    import_bottom_up_h5,
)
from mmgrounding.utils.atomic import atomic_open
from tests.damage import flip_byte

META = dict(detector=dict(type='FasterRCNN', checkpoint_sha256='abc'),
            extraction=dict(topk=4, feature_dim=6, feature_dtype='float32'))


def make_entry(seed: int, num: int = 4, dim: int = 6, classes: int = 3) -> dict:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 50, (num, 2))
    probs = rng.uniform(size=(num, classes + 1))
    return dict(boxes_xyxy=np.concatenate([xy, xy + rng.uniform(5, 40, (num, 2))], 1),
                scores=np.sort(rng.uniform(size=num))[::-1], labels=rng.integers(0, classes, num),
                features=rng.normal(size=(num, dim)).astype(np.float32),
                class_probs=(probs / probs.sum(1, keepdims=True)).astype(np.float32),
                image_hw=(100, 120))


@pytest.fixture
def cache(tmp_path):
    cache = RegionCache.create(str(tmp_path / 'cache'), META)
    for i, img_id in enumerate(('1000001', '1000002', 'a/b c')):
        cache.write(img_id, make_entry(i))
    return cache


def test_entries_round_trip(cache):
    assert cache.image_ids() == ['1000001', '1000002', 'a/b c']
    assert osp.basename(cache.entry_path('a/b c')) == 'a%2Fb%20c.npz' == entry_name('a/b c')
    expected = make_entry(1)
    entry = cache.read('1000002')
    assert sorted(entry) == ['boxes_xyxy', 'class_probs', 'features', 'image_hw', 'img_id',
                             'labels', 'scores']
    assert entry['boxes_xyxy'].dtype == np.float32 and entry['labels'].dtype == np.int32
    np.testing.assert_allclose(entry['boxes_xyxy'], expected['boxes_xyxy'], rtol=1e-6)
    np.testing.assert_array_equal(entry['features'], expected['features'])
    np.testing.assert_array_equal(entry['labels'], expected['labels'])
    assert entry['image_hw'].tolist() == [100, 120]
    # topk keeps the best rows of every per-box field; fields limits what is read
    top = cache.read('1000002', fields=('features', ), topk=2)
    assert sorted(top) == ['boxes_xyxy', 'features', 'image_hw', 'img_id']
    np.testing.assert_array_equal(top['features'], expected['features'][:2])
    assert cache.meta['format'] == CACHE_FORMAT and len(cache) == 3
    assert cache.verify() == []


def test_empty_entry(cache):
    cache.write('empty', dict(boxes_xyxy=np.zeros((0, 4)), scores=[], labels=[],
                              features=np.zeros((0, 6), np.float32), image_hw=(10, 10)))
    entry = cache.read('empty')
    assert entry['boxes_xyxy'].shape == (0, 4) and entry['features'].shape == (0, 6)


def test_inconsistent_entry_is_not_written(cache):
    bad = make_entry(0)
    bad['features'] = bad['features'][:3]  # 3 rows for 4 boxes
    with pytest.raises(RegionCacheError, match='features has shape'):
        cache.write('1000009', bad)
    assert '1000009' not in cache


@pytest.mark.parametrize('damage', ['flip_byte', 'truncate', 'empty'])
def test_damaged_entry_is_reported_by_name(cache, damage):
    path = cache.entry_path('1000002')
    if damage == 'flip_byte':
        # one bit of one feature: the array's CRC-32 no longer matches
        flip_byte(path, make_entry(1)['features'].tobytes())
    elif damage == 'truncate':
        with open(path, 'r+b') as f:
            f.truncate(os.path.getsize(path) // 2)
    else:
        open(path, 'wb').close()
    with pytest.raises(RegionCacheError, match=r'1000002\.npz \(image 1000002\): corrupt'):
        cache.read('1000002')
    bad = cache.verify()
    assert [img_id for img_id, _ in bad] == ['1000002']
    assert path in bad[0][1]
    cache.read('1000001')  # the others are fine


def test_entry_of_another_image_is_reported(cache):
    os.replace(cache.entry_path('1000001'), cache.entry_path('1000003'))
    with pytest.raises(RegionCacheError, match='1000003.*holds image 1000001'):
        cache.read('1000003')
    with pytest.raises(RegionCacheError, match='no entry'):
        cache.read('1000001')


def test_resume_needs_the_same_settings(cache):
    again = RegionCache.create(cache.root, META)
    assert again.image_ids() == cache.image_ids()
    other = dict(META, extraction=dict(META['extraction'], topk=10))
    with pytest.raises(RegionCacheError, match=r'extraction\.topk: 4 vs 10'):
        RegionCache.create(cache.root, other)
    with pytest.raises(RegionCacheError, match='exists already'):
        RegionCache.create(cache.root, META, resume=False)
    with pytest.raises(RegionCacheError, match='meta.json is missing'):
        RegionCache(osp.join(cache.root, 'nowhere'))


def test_killed_write_leaves_no_entry(cache):
    path = cache.entry_path('1000004')
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(path, 'wb') as f:
            f.write(b'half an entry')
            raise KeyboardInterrupt
    assert not osp.exists(path) and sorted(os.listdir(cache.regions_dir)) == [
        entry_name(i) for i in ('1000001', '1000002', 'a/b c')]
    # a process killed outright leaves its temporary file, which is not an entry
    with open(osp.join(cache.regions_dir, '.tmp-1000004.npz.x1'), 'wb') as f:
        f.write(b'half')
    assert '1000004' not in cache and len(cache) == 3
    assert cache.remove_stale_temporaries() == ['.tmp-1000004.npz.x1']


def write_bottom_up_h5(path: str) -> dict:
    entries = {}
    with h5py.File(path, 'w') as h5:
        for i, img_id in enumerate(('391895', '522418', '184613')):
            entry = make_entry(i, num=3 + i, dim=8)
            group = h5.create_group(img_id)
            group.create_dataset('boxes', data=entry['boxes_xyxy'].astype(np.float32))
            group.create_dataset('features', data=entry['features'])
            group.create_dataset('scores', data=entry['scores'].astype(np.float32))
            group.create_dataset('labels', data=entry['labels'].astype(np.int32))
            group.attrs['image_h'], group.attrs['image_w'] = 480, 640
            entries[img_id] = entry
    return entries


def test_bottom_up_h5_round_trip(tmp_path):
    source = str(tmp_path / 'bottom_up.h5')
    entries = write_bottom_up_h5(source)
    cache = import_bottom_up_h5(source, str(tmp_path / 'cache'))
    assert cache.image_ids() == sorted(entries)
    assert cache.meta['extraction']['feature_dim'] == 8 and cache.meta['num_images'] == 3
    for img_id, expected in entries.items():
        entry = cache.read(img_id)
        assert 'class_probs' not in entry and entry['image_hw'].tolist() == [480, 640]
        np.testing.assert_array_equal(entry['features'], expected['features'])
        np.testing.assert_array_equal(entry['boxes_xyxy'],
                                      expected['boxes_xyxy'].astype(np.float32))
        np.testing.assert_array_equal(entry['labels'], expected['labels'])
    # cache -> HDF5 gives back the same file contents
    exported = str(tmp_path / 'exported.h5')
    export_bottom_up_h5(cache, exported)
    with h5py.File(source, 'r') as a, h5py.File(exported, 'r') as b:
        assert sorted(a) == sorted(b)
        for img_id in a:
            assert sorted(a[img_id]) == sorted(b[img_id])
            for key in a[img_id]:
                np.testing.assert_array_equal(a[img_id][key][()], b[img_id][key][()])
            assert dict(a[img_id].attrs) == dict(b[img_id].attrs)
    # importing again resumes (nothing to do); half precision is a different cache
    assert import_bottom_up_h5(source, str(tmp_path / 'cache')).image_ids() == sorted(entries)
    with pytest.raises(RegionCacheError, match='feature_dtype'):
        import_bottom_up_h5(source, str(tmp_path / 'cache'), feature_dtype='float16')


def test_bottom_up_h5_without_required_keys(tmp_path):
    source = str(tmp_path / 'bad.h5')
    with h5py.File(source, 'w') as h5:
        h5.create_group('1').create_dataset('boxes', data=np.zeros((1, 4)))
    with pytest.raises(RegionCacheError, match=r"group '1' has no datasets \['features'"):
        import_bottom_up_h5(source, str(tmp_path / 'cache'))


def test_importer_command_line(tmp_path, capsys):
    import importlib.util
    path = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'tools',
                    'dataset_converters', 'bottom_up_h5_to_region_cache.py')
    spec = importlib.util.spec_from_file_location('bottom_up_h5_to_region_cache', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    source = str(tmp_path / 'bottom_up.h5')
    entries = write_bottom_up_h5(source)
    tool.main([source, '--out', str(tmp_path / 'cache'), '--feature-dtype', 'float16',
               '--verify'])
    assert '3 images in' in capsys.readouterr().out
    entry = RegionCache(str(tmp_path / 'cache')).read('522418')
    assert entry['features'].dtype == np.float16
    np.testing.assert_allclose(entry['features'], entries['522418']['features'], rtol=1e-3)
