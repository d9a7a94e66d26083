"""The grounding pipeline keeps boxes and phrases together through mmdet's transforms."""
import numpy as np
import torch
from mmengine.dataset import Compose

from mmgrounding.registry import TRANSFORMS  # noqa: F401 (registers the transforms)


def make_results():
    img = np.zeros((60, 100, 3), np.uint8)
    return dict(
        img=img, img_shape=(60, 100), ori_shape=(60, 100), img_id='7', img_path='7.jpg',
        caption='a dog and two cats', caption_id=0,
        phrases=[
            dict(text='a dog', span=(0, 5), types=['animals'],
                 boxes_xyxy=[[10., 10., 30., 20.]]),
            dict(text='two cats', span=(10, 18), types=['animals'],
                 boxes_xyxy=[[50., 0., 60., 10.], [70., 30., 100., 60.]]),
        ])


def test_resize_flip_pack_keep_phrase_index():
    pipeline = Compose([
        dict(type='LoadGroundingAnnotations'),
        dict(type='Resize', scale=(50, 120), keep_ratio=False),  # x / 2, y * 2
        dict(type='RandomFlip', prob=1.0, direction='horizontal'),
        dict(type='PackGroundingInputs'),
    ])
    packed = pipeline(make_results())
    assert packed['inputs'].shape == (3, 120, 50)
    sample = packed['data_samples']
    assert sample.metainfo['phrases'] == ['a dog', 'two cats']
    assert sample.metainfo['phrase_spans'] == [(0, 5), (10, 18)]
    assert sample.gt_instances.labels.tolist() == [0, 1, 1]
    # [10, 10, 30, 20] -> resize [5, 20, 15, 40] -> flip in width 50: [35, 20, 45, 40]
    assert sample.phrase_boxes(0).tolist() == [[35., 20., 45., 40.]]
    # [70, 30, 100, 60] -> [35, 60, 50, 120] -> flip: [0, 60, 15, 120]
    assert torch.equal(sample.phrase_boxes(1)[1], torch.tensor([0., 60., 15., 120.]))


def test_sample_without_phrases_packs_empty_ground_truth():
    results = make_results()
    results['phrases'] = []
    packed = Compose([dict(type='LoadGroundingAnnotations'),
                      dict(type='PackGroundingInputs')])(results)
    sample = packed['data_samples']
    assert sample.num_phrases == 0 and sample.gt_instances.bboxes.shape == (0, 4)
