"""tools/dataset_converters/mattnet_dets_to_region_cache.py on hand-written dets.json files."""

import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
from mmcv.transforms import Compose

from mmgrounding.datasets import GroundingAnnotationError, RegionCache

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def tool():
    path = osp.join(REPO, 'tools', 'dataset_converters', 'mattnet_dets_to_region_cache.py')
    spec = importlib.util.spec_from_file_location('mattnet_dets_to_region_cache', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# MAttNet's layout: box = [x1, y1, x2 - x1 + 1, y2 - y1 + 1]
DETS = [
    dict(
        det_id=0,
        h5_id=0,
        image_id=9,
        category_id=18,
        category_name='dog',
        box=[10.0, 20.0, 30.0, 40.0],
        score=0.7,
    ),
    dict(
        det_id=1,
        h5_id=1,
        image_id=9,
        category_id=1,
        category_name='person',
        box=[0.0, 0.0, 5.0, 5.0],
        score=0.9,
    ),
    dict(
        det_id=2,
        h5_id=2,
        image_id=11,
        category_id=1,
        category_name='person',
        box=[1.0, 2.0, 3.0, 4.0],
        score=0.8,
    ),
]


def test_mattnet_layout_into_a_region_cache(tmp_path, capsys):
    dets = tmp_path / 'dets.json'
    dets.write_text(json.dumps(DETS))
    instances = tmp_path / 'instances.json'
    instances.write_text(json.dumps(dict(images=[dict(id=9, height=100, width=120)])))
    out = str(tmp_path / 'cache')
    cache = tool().main([str(dets), '--out', out, '--instances', str(instances)])
    assert '2 images' in capsys.readouterr().out
    # classes by sorted category id: person (1) -> label 0, dog (18) -> label 1
    assert cache.meta['detector']['classes'] == ['person', 'dog']
    entry = RegionCache(out).read('9')
    # best first: the person (0.9), then the dog; [x, y, w, h] -> [x, y, x + w, y + h]
    np.testing.assert_allclose(entry['boxes_xyxy'], [[0, 0, 5, 5], [10, 20, 40, 60]])
    np.testing.assert_allclose(entry['scores'], [0.9, 0.7])
    assert entry['labels'].tolist() == [0, 1] and entry['features'].shape == (2, 0)
    assert entry['image_hw'].tolist() == [100, 120]
    assert RegionCache(out).read('11')['image_hw'].tolist() == [-1, -1]  # not in instances
    # LoadRegionFeatures serves the boxes to a test pipeline (before Resize: original pixels)
    results = Compose([dict(type='LoadRegionFeatures', cache_dir=out)])(
        dict(img_id=9, height=100, width=120)
    )
    np.testing.assert_allclose(results['region_boxes'][1], [10, 20, 40, 60])
    # a second run resumes: nothing rewritten, the same entries
    assert len(tool().main([str(dets), '--out', out])) == 2


def test_amc_layout_and_bad_records(tmp_path):
    dets = tmp_path / 'amc.json'
    # the AMC code's dict: no scores for image 3 (file order kept), scores for image 4
    dets.write_text(
        json.dumps(
            {'3': [[0, 0, 10, 10], [5, 5, 2, 2]], '4': [[1, 1, 1, 1, 0.2], [2, 2, 2, 2, 0.6]]}
        )
    )
    cache = tool().import_dets(str(dets), str(tmp_path / 'cache'))
    np.testing.assert_allclose(cache.read('3')['boxes_xyxy'], [[0, 0, 10, 10], [5, 5, 7, 7]])
    np.testing.assert_allclose(cache.read('4')['scores'], [0.6, 0.2])
    assert cache.meta['detector']['classes'] == []
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps([dict(image_id=1, box=[0, 0, 1])]))
    with pytest.raises(GroundingAnnotationError, match=r'bad\.json: record #0 \(image 1\)'):
        tool().read_dets(str(bad))
