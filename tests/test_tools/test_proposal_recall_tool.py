"""tools/analysis_tools/proposal_recall.py on a cache built from SynthGround's ground truth."""
import json
import os.path as osp

import numpy as np

from mmgrounding.datasets import Flickr30kEntitiesDataset
from mmgrounding.datasets.region_cache import RegionCache
from tests.tool_loader import load_tool as load_tool_file

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool():
    return load_tool_file('tools/analysis_tools/proposal_recall.py')


def flickr30k_test(synthground_root: str) -> Flickr30kEntitiesDataset:
    return Flickr30kEntitiesDataset(
        data_root=synthground_root, ann_file='flickr30k_entities/test.txt',
        data_prefix=dict(img='images/', annotations='flickr30k_entities/Annotations/',
                         sentences='flickr30k_entities/Sentences/'), pipeline=[])


def write_ground_truth_cache(dataset, cache_dir: str) -> str:
    """A region cache whose proposals are the test phrases' own boxes, except for the first
    image, whose proposals all miss (moved by 1000 px); returns that image's id."""
    boxes_of = {}
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        image = boxes_of.setdefault(info['img_id'], [])
        for phrase in info['phrases']:
            image += [b for b in phrase['boxes_xyxy'] if b not in image]
    cache = RegionCache.create(cache_dir, dict(detector={}, extraction={}))
    shifted = sorted(boxes_of)[0]
    for img_id, boxes in boxes_of.items():
        boxes = np.array(boxes, np.float32) + (1000 if img_id == shifted else 0)
        cache.write(img_id, dict(boxes_xyxy=boxes, scores=np.ones(len(boxes)),
                                 labels=np.zeros(len(boxes)),
                                 features=np.zeros((len(boxes), 2), np.float32)))
    return shifted


def test_recall_of_ground_truth_proposals(synthground_root, tmp_path):
    dataset = flickr30k_test(synthground_root)
    shifted = write_ground_truth_cache(dataset, str(tmp_path / 'cache'))
    # expected: every box except those of the shifted image, counted once per phrase
    total = missed = phrases = phrases_missed = 0
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        for phrase in info['phrases']:
            total += len(phrase['boxes_xyxy'])
            phrases += 1
            if info['img_id'] == shifted:
                missed += len(phrase['boxes_xyxy'])
                phrases_missed += 1

    tool = load_tool()
    out = tmp_path / 'recall.json'
    recall = tool.main([str(tmp_path / 'cache'), '--dataset',
                        osp.join(REPO, 'configs/_base_/datasets/synthground_flickr30k.py'),
                        '--data-root', synthground_root, '--topk', '1', '100',
                        '--out', str(out)])
    assert recall['num_boxes'] == total and recall['num_phrases'] == phrases
    assert recall['boxes']['100'] == round(100 * (total - missed) / total, 2)
    assert recall['phrases_any']['100'] == round(100 * (phrases - phrases_missed) / phrases, 2)
    assert recall['boxes']['1'] < recall['boxes']['100']
    assert json.loads(out.read_text()) == recall
