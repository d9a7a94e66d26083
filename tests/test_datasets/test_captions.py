"""COCO and Flickr30k caption loaders on small hand-written files in the official formats."""
import json
import os.path as osp

import pytest

from mmgrounding.datasets import (
    CocoCaptionsDataset,
    Flickr30kCaptionsDataset,
    GroundingAnnotationError,
)
from mmgrounding.datasets.flickr30k_entities import parse_sentence_line

COCO = dict(
    info=dict(description='test'),
    images=[
        dict(id=9, file_name='COCO_train2014_000000000009.jpg', width=64, height=48),
        dict(id=25, file_name='COCO_train2014_000000000025.jpg', width=32, height=32),
        dict(id=30, file_name='COCO_train2014_000000000030.jpg', width=16, height=16),
    ],
    annotations=[
        dict(id=101, image_id=25, caption='A giraffe eating leaves.'),
        dict(id=102, image_id=9, caption=' A plate  of food\n on a table. '),
        dict(id=103, image_id=9, caption='   '),
        dict(id=104, image_id=9, caption='Broccoli and rice.'),
    ],
    licenses=[])
# Expected per-caption items: images in file order (9, 25; 30 has no caption), captions in
# annotation order with whitespace normalised; 103 is empty and skipped.
COCO_EXPECTED = [(9, 102, 'A plate of food on a table.'), (9, 104, 'Broccoli and rice.'),
                 (25, 101, 'A giraffe eating leaves.')]

SENTENCES = (
    '[/EN#1/people A man] rides [/EN#2/animals a horse] .\n'
    '\n'
    'Someone outdoors .\n'
    '[/EN#1/people The rider] is on the left of [/EN#3/scene a fence] .\n')


def write_coco(root, content=COCO):
    path = root / 'annotations' / 'captions_train2014.json'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return root


def build_coco(root, **kwargs):
    return CocoCaptionsDataset(
        data_root=str(root), ann_file='annotations/captions_train2014.json',
        data_prefix=dict(img='train2014/'), pipeline=[], **kwargs)


def write_flickr(root, img_ids=('100', '200'), sentences=SENTENCES):
    sen_dir = root / 'flickr30k_entities' / 'Sentences'
    sen_dir.mkdir(parents=True, exist_ok=True)
    for img_id in img_ids:
        (sen_dir / f'{img_id}.txt').write_text(sentences)
    (root / 'flickr30k_entities' / 'train.txt').write_text('100\n200\n')
    return root


def build_flickr(root, **kwargs):
    return Flickr30kCaptionsDataset(
        data_root=str(root), ann_file='flickr30k_entities/train.txt',
        data_prefix=dict(img='flickr30k-images/', sentences='flickr30k_entities/Sentences/'),
        pipeline=[], **kwargs)


def test_coco_one_item_per_caption(tmp_path):
    dataset = build_coco(write_coco(tmp_path))
    assert [(d['img_id'], d['caption_id'], d['caption']) for d in dataset] == COCO_EXPECTED
    first = dataset[0]
    assert first['img_path'] == osp.join(str(tmp_path), 'train2014',
                                         'COCO_train2014_000000000009.jpg')
    assert (first['width'], first['height'], first['phrases']) == (64, 48, [])
    assert dataset.skip_counts == {'empty_caption': 1, 'image_without_captions': 1}


def test_coco_grouped_by_image(tmp_path):
    dataset = build_coco(write_coco(tmp_path), group_by_image=True)
    assert len(dataset) == 2
    assert dataset[0]['captions'] == ['A plate of food on a table.', 'Broccoli and rice.']
    assert dataset[0]['caption_ids'] == [102, 104]
    assert 'caption' not in dataset[0]
    assert dataset[1]['img_id'] == 25 and dataset[1]['captions'] == ['A giraffe eating leaves.']


def test_flickr_captions_strip_markup(tmp_path):
    dataset = build_flickr(write_flickr(tmp_path))
    # per image: line 1, line 3 and line 4 (caption ids 0, 2, 3); line 2 is empty
    assert len(dataset) == 6
    assert [(d['img_id'], d['caption_id'], d['caption']) for d in dataset][:3] == [
        ('100', 0, 'A man rides a horse .'), ('100', 2, 'Someone outdoors .'),
        ('100', 3, 'The rider is on the left of a fence .')]
    # the captions are those of the Flickr30k Entities parser
    line = SENTENCES.split('\n')[3]
    assert dataset[2]['caption'] == parse_sentence_line(line, path='x', line_no=4)[0]
    assert dataset[3]['img_path'] == osp.join(str(tmp_path), 'flickr30k-images', '200.jpg')
    assert dataset[0]['phrases'] == [] and dataset[0]['width'] is None
    assert dataset.skip_counts == {'empty_caption': 2}
    grouped = build_flickr(tmp_path, group_by_image=True)
    assert len(grouped) == 2 and grouped[1]['caption_ids'] == [0, 2, 3]


# ----------------------------------------------------------------------------------------
# Bad input (issue 3, item 8): one test per case and loader. Caption data has no boxes, so
# the box cases do not apply.
def test_coco_bad_missing_image_file(tmp_path, log_messages):
    write_coco(tmp_path)
    (tmp_path / 'train2014').mkdir()
    (tmp_path / 'train2014' / 'COCO_train2014_000000000025.jpg').write_bytes(b'')
    with pytest.raises(GroundingAnnotationError,
                       match=r'captions_train2014\.json: image 9: image file '
                             r'.*train2014/COCO_train2014_000000000009\.jpg does not exist'):
        build_coco(tmp_path, missing_images='raise')
    dataset = build_coco(tmp_path, missing_images='skip')
    assert [d['caption_id'] for d in dataset] == [101]
    assert dataset.skip_counts == {'missing_image': 2, 'empty_caption': 1,
                                   'image_without_captions': 1}
    assert any('1 missing images, 2 items skipped' in m for m in log_messages)
    grouped = build_coco(tmp_path, missing_images='skip', group_by_image=True)
    assert [d['img_id'] for d in grouped] == [25]
    assert grouped.skip_counts['missing_image'] == 1  # one item per image


def test_coco_bad_empty_caption(tmp_path, log_messages):
    dataset = build_coco(write_coco(tmp_path))
    assert 103 not in [d['caption_id'] for d in dataset]  # caption '   '
    assert dataset.skip_counts['empty_caption'] == 1
    assert any("3 items, 3 captions; skipped: {'empty_caption': 1, "
               "'image_without_captions': 1}" in m for m in log_messages)


def test_coco_bad_annotation_of_unknown_image(tmp_path):
    missing_image = dict(COCO, annotations=COCO['annotations'] + [
        dict(id=105, image_id=77, caption='Nowhere.')])
    write_coco(tmp_path, missing_image)
    with pytest.raises(GroundingAnnotationError,
                       match=r"captions_train2014.json: annotations\[4\] \(id 105\): image 77 "
                       "has no entry in 'images'"):
        build_coco(tmp_path)


def test_coco_bad_truncated_json(tmp_path):
    write_coco(tmp_path, json.dumps(COCO)[:50])
    with pytest.raises(GroundingAnnotationError,
                       match=r'annotations/captions_train2014\.json: malformed or truncated'):
        build_coco(tmp_path)
    write_coco(tmp_path, {'images': []})
    with pytest.raises(GroundingAnnotationError, match="needs 'images' and 'annotations'"):
        build_coco(tmp_path)


def test_coco_bad_unknown_split_lists_the_captions_files(tmp_path):
    write_coco(tmp_path)
    with pytest.raises(FileNotFoundError,
                       match=r'captions file .*captions_train2017\.json does not exist; '
                             r'.*annotations holds: captions_train2014\.json'):
        CocoCaptionsDataset(data_root=str(tmp_path),
                            ann_file='annotations/captions_train2017.json')


def test_flickr_bad_missing_image_file(tmp_path, log_messages):
    write_flickr(tmp_path)
    (tmp_path / 'flickr30k-images').mkdir()
    (tmp_path / 'flickr30k-images' / '200.jpg').write_bytes(b'')
    with pytest.raises(GroundingAnnotationError,
                       match=r'train\.txt: image 100: image file .*flickr30k-images/100\.jpg '
                             'does not exist'):
        build_flickr(tmp_path, missing_images='raise')
    dataset = build_flickr(tmp_path, missing_images='skip')
    assert [d['img_id'] for d in dataset] == ['200'] * 3
    assert dataset.skip_counts == {'missing_image': 3, 'empty_caption': 2}
    assert any('1 missing images, 3 items skipped' in m for m in log_messages)


def test_flickr_bad_empty_caption(tmp_path, log_messages):
    # line 2 of each file is empty; the final newline is not a caption
    dataset = build_flickr(write_flickr(tmp_path))
    assert [d['caption_id'] for d in dataset] == [0, 2, 3] * 2
    assert dataset.skip_counts == {'empty_caption': 2}
    assert any("6 items, 6 captions; skipped: {'empty_caption': 2}" in m for m in log_messages)


def test_flickr_bad_missing_sentence_file(tmp_path):
    write_flickr(tmp_path, img_ids=('100', ))  # 200 is in the split but has no file
    with pytest.raises(FileNotFoundError, match=r'200.txt is missing \(image 200, line 2 of'):
        build_flickr(tmp_path)


def test_flickr_bad_malformed_phrase(tmp_path):
    write_flickr(tmp_path, sentences='A dog .\n[/EN#1/people A man rides .\n')
    with pytest.raises(GroundingAnnotationError,
                       match=r'Sentences/100.txt:2: phrase for entity 1 is not closed'):
        build_flickr(tmp_path)


def test_flickr_bad_unknown_split_lists_the_split_files(tmp_path):
    write_flickr(tmp_path)
    with pytest.raises(FileNotFoundError,
                       match=r'split file .*flickr30k_entities/trian\.txt does not exist; '
                             r'.*flickr30k_entities holds: train\.txt'):
        Flickr30kCaptionsDataset(data_root=str(tmp_path),
                                 ann_file='flickr30k_entities/trian.txt')


def test_synthground_captions(synthground_root):
    for split in ('train', 'val', 'test'):
        coco = CocoCaptionsDataset(
            data_root=synthground_root, ann_file=f'coco/annotations/captions_{split}.json',
            data_prefix=dict(img='images/'), pipeline=[], group_by_image=True)
        flickr = Flickr30kCaptionsDataset(
            data_root=synthground_root, ann_file=f'flickr30k_entities/{split}.txt',
            data_prefix=dict(img='images/', sentences='flickr30k_entities/Sentences/'),
            pipeline=[], group_by_image=True)
        assert len(coco) > 0 and not coco.skip_counts
        # SynthGround writes the same plain captions in both formats
        assert {str(d['img_id']): d['captions'] for d in coco} == {
            d['img_id']: d['captions'] for d in flickr}
        for item in coco:
            assert osp.isfile(item['img_path']) and item['width'] > 0
        per_caption = CocoCaptionsDataset(
            data_root=synthground_root, ann_file=f'coco/annotations/captions_{split}.json',
            data_prefix=dict(img='images/'), pipeline=[])
        assert len(per_caption) == sum(len(d['captions']) for d in coco)


def test_coco_captions_config_pipeline(synthground_root):
    from mmengine.config import Config

    from mmgrounding.registry import DATASETS

    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(repo, 'configs', '_base_', 'datasets', 'coco_captions.py'))
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.update(data_root=synthground_root,
                       ann_file='coco/annotations/captions_val.json',
                       data_prefix=dict(img='images/'))
    packed = DATASETS.build(dataset_cfg)[0]
    assert packed['inputs'].shape == (3, 384, 384)
    sample = packed['data_samples']
    assert sample.metainfo['caption'] and sample.gt_instances.bboxes.shape == (0, 4)
