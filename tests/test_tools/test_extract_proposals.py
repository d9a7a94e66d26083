"""tools/extract_proposals.py with a tiny randomly initialised mmdet Faster R-CNN."""
import importlib.util
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmdet.structures.bbox import bbox2roi

from mmgrounding.apis import capture_inputs
from mmgrounding.datasets.region_cache import RegionCache, RegionCacheError
from tests.test_models.detector_tiny import FEATURE_DIM, NUM_CLASSES, write_tiny_detector

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATASET = 'configs/_base_/datasets/synthground_flickr30k.py'
TOPK = 6


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'extract_proposals', osp.join(REPO, 'tools', 'extract_proposals.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def detector(tmp_path_factory):
    return write_tiny_detector(str(tmp_path_factory.mktemp('detector')))


def extract(detector, root, out, *extra):
    config, checkpoint = detector
    return load_tool().main([
        config, checkpoint, '--dataset', osp.join(REPO, DATASET), '--data-root', root,
        '--out', str(out), '--topk', str(TOPK), '--splits', 'val', 'test',
        '--num-workers', '0', *extra])


def entries(cache_dir):
    cache = RegionCache(str(cache_dir))
    return {i: cache.read(i) for i in cache.image_ids()}


def assert_same_entries(a, b):
    assert sorted(a) == sorted(b)
    for img_id in a:
        assert sorted(a[img_id]) == sorted(b[img_id])
        for key in a[img_id]:
            x, y = np.asarray(a[img_id][key]), np.asarray(b[img_id][key])
            if np.issubdtype(x.dtype, np.floating):
                # float32 convolutions and GEMMs pick other kernels for another process/thread
                # layout (seen in CI: features 1.9e-9 and, in another run, 1.4e-6 absolute /
                # 4e-5 relative apart); a wrong image, box or order is orders of magnitude more
                np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5, err_msg=key)
            else:
                np.testing.assert_array_equal(x, y, err_msg=key)


@pytest.fixture(scope='module')
def full_run(detector, synthground_root, tmp_path_factory):
    out = tmp_path_factory.mktemp('full') / 'cache'
    summary = extract(detector, synthground_root, out)
    return out, summary


def test_extraction_writes_the_documented_cache(full_run, detector, synthground_root):
    out, summary = full_run
    cache = RegionCache(str(out))
    val, test = cache.split_ids('val'), cache.split_ids('test')
    assert cache.image_ids() == sorted(val + test) and summary['written'] == len(val + test)
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['format'] == 'mmgrounding-region-cache-v1'
    assert meta['extraction']['topk'] == TOPK
    assert meta['extraction']['feature_dim'] == FEATURE_DIM
    assert meta['extraction']['class_probs_dim'] == NUM_CLASSES + 1
    assert meta['detector']['type'] == 'FasterRCNN'
    assert len(meta['detector']['classes']) == NUM_CLASSES
    assert meta['splits'] == {'val': len(val), 'test': len(test)}

    from mmdet.apis import init_detector
    model = init_detector(detector[0], detector[1], device='cpu')
    for img_id in test:
        entry = cache.read(img_id)
        num = len(entry['boxes_xyxy'])
        assert 0 < num <= TOPK
        height, width = entry['image_hw']
        boxes = entry['boxes_xyxy']
        assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
        assert boxes[:, 0::2].max() <= width and boxes[:, 1::2].max() <= height
        assert (np.diff(entry['scores']) <= 0).all()  # best first
        assert entry['features'].shape == (num, FEATURE_DIM)
        assert entry['labels'].max() < NUM_CLASSES
        np.testing.assert_allclose(entry['class_probs'].sum(1), 1, atol=1e-5)

    # The feature of a box is the detector's own RoI feature of that box: RoIAlign on the
    # FPN maps, then the shared FCs, computed here straight from the modules; the class
    # probabilities are the classifier's softmax on it.
    img_id = test[0]
    entry = cache.read(img_id)
    dataset_img = osp.join(synthground_root, 'images', f'{img_id}.jpg')
    from mmengine.dataset import Compose, pseudo_collate

    from mmgrounding.apis import detector_test_pipeline
    pipeline = Compose(detector_test_pipeline(model.cfg))
    data = model.data_preprocessor(
        pseudo_collate([pipeline(dict(img_path=dataset_img, img_id=img_id))]), False)
    scale = data['data_samples'][0].metainfo['scale_factor']
    boxes = torch.from_numpy(entry['boxes_xyxy']) * torch.tensor(scale * 2)
    with torch.no_grad():
        feats = model.extract_feat(data['inputs'])
        roi_head = model.roi_head
        pooled = roi_head.bbox_roi_extractor(feats[:4], bbox2roi([boxes])).flatten(1)
        x = pooled
        for fc in roi_head.bbox_head.shared_fcs:
            x = torch.relu(fc(x))
        probs = roi_head.bbox_head.fc_cls(x).softmax(-1)
    # boxes went through a scale and back, so allow for rounding
    np.testing.assert_allclose(entry['features'], x.numpy(), atol=1e-4)
    np.testing.assert_allclose(entry['class_probs'], probs.numpy(), atol=1e-5)


def test_interrupted_run_resumes_to_the_same_cache(full_run, detector, synthground_root,
                                                   tmp_path):
    out = tmp_path / 'cache'
    first = extract(detector, synthground_root, out, '--max-images', '3')  # "interrupted"
    assert first['written'] == 3
    # a write killed mid-file leaves a temporary file, which is no entry and is removed
    stale = out / 'regions' / '.tmp-1000077.npz.abc'
    stale.write_bytes(b'half an entry')
    second = extract(detector, synthground_root, out)
    assert second['written'] == second['images'] - 3  # finished images are not recomputed
    assert not stale.exists()
    assert_same_entries(entries(out), entries(full_run[0]))


def test_corrupt_entries_are_reported_and_extracted_again(full_run, detector,
                                                          synthground_root, tmp_path):
    out = tmp_path / 'cache'
    extract(detector, synthground_root, out, '--splits', 'test')
    cache = RegionCache(str(out))
    img_id = cache.image_ids()[1]
    path = cache.entry_path(img_id)
    with open(path, 'r+b') as f:
        f.truncate(os.path.getsize(path) - 100)
    with pytest.raises(RegionCacheError, match=f'{img_id}.npz \\(image {img_id}\\): corrupt'):
        cache.read(img_id)
    assert [i for i, _ in cache.verify()] == [img_id]
    summary = extract(detector, synthground_root, out, '--splits', 'test', '--verify')
    assert summary['written'] == 1
    np.testing.assert_array_equal(cache.read(img_id)['features'],
                                  entries(full_run[0])[img_id]['features'])


def test_other_settings_do_not_mix_into_a_cache(full_run, detector, synthground_root):
    with pytest.raises(RegionCacheError, match=r'extraction\.topk: 6 vs 3'):
        config, checkpoint = detector
        load_tool().main([config, checkpoint, '--dataset', osp.join(REPO, DATASET),
                          '--data-root', synthground_root, '--out', str(full_run[0]),
                          '--topk', '3', '--num-workers', '0'])


def test_two_processes_write_the_same_cache(full_run, detector, synthground_root, tmp_path,
                                           free_port):
    config, checkpoint = detector
    out = tmp_path / 'cache'
    env = dict(os.environ, PYTHON=sys.executable, PORT=free_port)
    proc = subprocess.run(
        ['bash', 'tools/dist_extract.sh', config, checkpoint, '2', '--dataset', DATASET,
         '--data-root', synthground_root, '--out', str(out), '--topk', str(TOPK),
         '--splits', 'val', 'test', '--num-workers', '0'],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert_same_entries(entries(out), entries(full_run[0]))


def test_capture_inputs_removes_its_hook():
    layer = torch.nn.Linear(2, 1)
    with capture_inputs(layer) as captured:
        layer(torch.ones(3, 2))
    assert len(captured) == 1 and captured[0].shape == (3, 2)
    assert not layer._forward_pre_hooks
    with pytest.raises(RuntimeError):
        with capture_inputs(layer):
            raise RuntimeError('inside')
    assert not layer._forward_pre_hooks


def test_the_builds_referit_images_join_the_cache_under_prefixed_splits(
    full_run, detector, synthground_root, tmp_path
):
    """``make proposals`` on v2: the ReferIt split's own images go into the same cache as
    ``referit_<split>`` lists; the Flickr30k-format split lists stay as they were."""
    out, _ = full_run
    cache_dir = tmp_path / 'cache'
    shutil.copytree(out, cache_dir)
    before = RegionCache(str(cache_dir))
    val, test = before.split_ids('val'), before.split_ids('test')
    config, checkpoint = detector
    referit = osp.join(REPO, 'configs/_base_/datasets/synthground_referit_v2.py')
    load_tool().main([
        config, checkpoint, '--dataset', referit, '--data-root', synthground_root,
        '--out', str(cache_dir), '--topk', str(TOPK), '--splits', 'test',
        '--num-workers', '0', '--split-prefix', 'referit_'])
    cache = RegionCache(str(cache_dir))
    assert cache.split_ids('val') == val and cache.split_ids('test') == test
    referit_test = cache.split_ids('referit_test')
    assert referit_test and all(i.startswith('2') for i in referit_test)  # ids from 2000001
    assert set(referit_test) <= set(cache.image_ids())
    splits = json.loads((cache_dir / 'meta.json').read_text())['splits']
    assert splits == {'val': len(val), 'test': len(test), 'referit_test': len(referit_test)}
