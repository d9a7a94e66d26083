"""RefCOCO loader on small hand-written files in the official refer format, and on SynthGround."""
import json
import os.path as osp
import pickle

import pytest

from mmgrounding.datasets import GroundingAnnotationError, RefCOCODataset, ReferItGameDataset
from mmgrounding.datasets.utils import check_box
from mmgrounding.registry import DATASETS

# COCO instances: bbox is [x, y, w, h].
INSTANCES = {
    'images': [
        {'id': 581857, 'file_name': 'COCO_train2014_000000581857.jpg', 'width': 640,
         'height': 480},
        {'id': 42, 'file_name': 'COCO_train2014_000000000042.jpg', 'width': 100, 'height': 50},
    ],
    'annotations': [
        {'id': 1701, 'image_id': 581857, 'category_id': 1, 'bbox': [10.5, 20.0, 30.25, 40.0],
         'area': 1210.0, 'iscrowd': 0, 'segmentation': [[10.5, 20.0, 40.75, 20.0, 40.75, 60.0]]},
        {'id': 1702, 'image_id': 581857, 'category_id': 2, 'bbox': [600.0, 400.0, 40.0, 80.0],
         'area': 3200.0, 'iscrowd': 0,
         'segmentation': [[600.0, 400.0, 640.0, 480.0, 600.0, 480.0]]},
        {'id': 1703, 'image_id': 42, 'category_id': 2, 'bbox': [5.0, 5.0, 0.0, 10.0],
         'area': 0.0, 'iscrowd': 0, 'segmentation': [[5.0, 5.0, 5.0, 15.0, 5.0, 5.0]]},
        {'id': 1704, 'image_id': 42, 'category_id': 1, 'bbox': [90.0, 10.0, 30.0, 10.0],
         'area': 300.0, 'iscrowd': 0, 'segmentation': [[90.0, 10.0, 120.0, 10.0, 120.0, 20.0]]},
    ],
    'categories': [
        {'id': 1, 'name': 'person', 'supercategory': 'person'},
        {'id': 2, 'name': 'dog', 'supercategory': 'animal'},
    ],
}


def sentence(sent_id, raw):
    sent = ''.join(c for c in raw.lower() if c.isalnum() or c == ' ').strip()
    return {'tokens': sent.split(), 'raw': raw, 'sent_id': sent_id, 'sent': sent}


def ref(ref_id, ann_id, image_id, split, category_id, sentences):
    return {
        'sent_ids': [s['sent_id'] for s in sentences],
        'file_name': f'COCO_train2014_{image_id:012d}_{ann_id}.jpg',
        'ann_id': ann_id, 'ref_id': ref_id, 'image_id': image_id, 'split': split,
        'sentences': sentences, 'category_id': category_id,
    }


REFS = [
    ref(0, 1701, 581857, 'train', 1,
        [sentence(0, 'The man on the left.'), sentence(1, 'man')]),
    ref(1, 1702, 581857, 'testA', 2,
        [sentence(2, 'dog'), sentence(3, ''), sentence(4, 'Brown dog, right')]),
    ref(2, 9999, 581857, 'testA', 1, [sentence(5, 'nobody')]),        # ann_id not in instances
    ref(3, 1703, 42, 'testB', 2, [sentence(6, 'a flat dog')]),        # zero-area box
    ref(4, 1704, 42, 'testB', 1, [sentence(7, 'man off the edge')]),  # box outside the image
    ref(5, 1702, 581857, 'val', 2, [sentence(8, 'the dog')]),
]


def write_files(root, refs=REFS, instances=INSTANCES, refs_name='refs(unc).p'):
    folder = root / 'refcoco'
    folder.mkdir(parents=True, exist_ok=True)
    (folder / 'instances.json').write_text(json.dumps(instances))
    with open(folder / refs_name, 'wb') as f:
        pickle.dump(refs, f, protocol=2)
    return folder


def build(root, split, dataset_type=RefCOCODataset, **kwargs):
    kwargs.setdefault('refs_file', 'refcoco/refs(unc).p')
    return dataset_type(
        data_root=str(root),
        ann_file='refcoco/instances.json',
        split=split,
        data_prefix=dict(img='train2014/'),
        pipeline=[],
        **kwargs)


def items(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def test_one_item_per_sentence_with_xyxy_box(tmp_path):
    write_files(tmp_path)
    dataset = build(tmp_path, 'train')
    first, second = items(dataset)
    assert [first['caption'], second['caption']] == ['the man on the left', 'man']
    assert [first['caption_id'], second['caption_id']] == [0, 1]
    # bbox [x, y, w, h] = [10.5, 20, 30.25, 40] -> [x, y, x + w, y + h] = [10.5, 20, 40.75, 60]
    assert first['phrases'] == [
        dict(text='the man on the left', span=(0, 19), entity_id='0', types=['person'],
             boxes_xyxy=[[10.5, 20.0, 40.75, 60.0]])
    ]
    assert second['phrases'][0]['boxes_xyxy'] == [[10.5, 20.0, 40.75, 60.0]]
    assert first['img_path'] == osp.join(
        str(tmp_path), 'train2014', 'COCO_train2014_000000581857.jpg')
    assert (first['img_id'], first['width'], first['height']) == (581857, 640, 480)
    assert (first['ref_id'], first['ann_id'], first['category_id']) == (0, 1701, 1)
    assert dataset.skip_counts == {}


def test_raw_sentences(tmp_path):
    write_files(tmp_path)
    dataset = build(tmp_path, 'train', sentence_key='raw')
    assert [d['caption'] for d in items(dataset)] == ['The man on the left.', 'man']


def test_split_selection_and_counted_skips(tmp_path):
    write_files(tmp_path)
    test_a = build(tmp_path, 'testA')
    # ref 1: sentences 2 and 4 (3 is empty); ref 2: its ann_id is missing from instances.json
    assert [(d['ref_id'], d['caption_id']) for d in items(test_a)] == [(1, 2), (1, 4)]
    assert items(test_a)[1]['caption'] == 'brown dog right'
    # a box touching the right and bottom border (x2 = 640 = width) is inside the image
    assert items(test_a)[0]['phrases'][0]['boxes_xyxy'] == [[600.0, 400.0, 640.0, 480.0]]
    assert test_a.skip_counts == {'missing_ann': 1, 'empty_sentence': 1}

    test_b = build(tmp_path, 'testB', serialize_data=False)  # mmengine cannot serialize []
    assert len(test_b) == 0
    assert test_b.skip_counts == {'invalid_box': 2}  # zero area; outside the 100x50 image

    assert [d['ref_id'] for d in items(build(tmp_path, 'val'))] == [5]


def test_umd_split_file(tmp_path):
    umd = [dict(r, split={'testA': 'test', 'testB': 'test'}.get(r['split'], r['split']))
           for r in REFS]
    write_files(tmp_path, refs=umd, refs_name='refs(umd).p')
    dataset = build(tmp_path, 'test', refs_file='refcoco/refs(umd).p')
    assert [d['caption_id'] for d in items(dataset)] == [2, 4]
    with pytest.raises(GroundingAnnotationError, match='are: test, train, val'):
        build(tmp_path, 'testA', refs_file='refcoco/refs(umd).p')


def test_pickle_that_is_not_a_list_of_refs(tmp_path):
    write_files(tmp_path, refs=[{'ref_id': 0, 'split': 'train'}])
    with pytest.raises(GroundingAnnotationError,
                       match=r'refs\(unc\)\.p: record #0 is not a ref \(missing ann_id, image_id, '
                             r'sentences\)'):
        build(tmp_path, 'train')


def test_python2_byte_strings_are_read_as_latin1(tmp_path):
    refs = [ref(0, 1701, 581857, 'train', 1, [sentence(0, 'x')])]
    refs[0]['sentences'][0]['sent'] = 'PLACEHOLDER'
    data = pickle.dumps(refs, protocol=2)
    # Python 2 pickled a str as SHORT_BINSTRING: opcode 'U', one length byte, raw bytes.
    unicode_op = b'X' + len('PLACEHOLDER').to_bytes(4, 'little') + b'PLACEHOLDER'
    assert data.count(unicode_op) == 1
    folder = write_files(tmp_path)
    (folder / 'refs(unc).p').write_bytes(data.replace(unicode_op, b'U\x0acaf\xe9 table'))
    assert items(build(tmp_path, 'train'))[0]['caption'] == 'caf\xe9 table'


def test_refs_and_instances_of_different_datasets(tmp_path):
    write_files(tmp_path, refs=[dict(REFS[0], image_id=42)])
    with pytest.raises(GroundingAnnotationError, match=r'ref 0: image 42, but annotation 1701'):
        build(tmp_path, 'train')


def test_missing_refs_file(tmp_path):
    write_files(tmp_path)
    with pytest.raises(FileNotFoundError, match=r'refs\(google\)\.p'):
        build(tmp_path, 'train', refs_file='refcoco/refs(google).p')


# ----------------------------------------------------------------------------------------
# Bad input (issue 3, item 8): one test per case, for RefCOCO and for RefCLEF
# (ReferItGameDataset), which has the same files.
LOADERS = pytest.mark.parametrize('dataset_type', [RefCOCODataset, ReferItGameDataset])


@LOADERS
def test_bad_missing_image_file(tmp_path, dataset_type, log_messages):
    write_files(tmp_path)
    (tmp_path / 'train2014').mkdir()
    # testA: ref 1 has two sentences on image 581857, whose file is missing
    with pytest.raises(GroundingAnnotationError,
                       match=r'refcoco/instances\.json: image 581857: image file '
                             r'.*train2014/COCO_train2014_000000581857\.jpg does not exist'):
        build(tmp_path, 'testA', dataset_type, missing_images='raise')
    dataset = build(tmp_path, 'testA', dataset_type, missing_images='skip',
                    serialize_data=False)
    assert len(dataset) == 0
    assert dataset.skip_counts == {'missing_image': 2, 'missing_ann': 1, 'empty_sentence': 1}
    assert any('1 missing images, 2 items skipped' in m for m in log_messages)
    (tmp_path / 'train2014' / 'COCO_train2014_000000581857.jpg').write_bytes(b'')
    assert len(build(tmp_path, 'testA', dataset_type, missing_images='raise')) == 2


@LOADERS
def test_bad_box_outside_the_image(tmp_path, dataset_type, log_messages):
    # annotation 1704: XYWH [90, 10, 30, 10] -> [90, 10, 120, 20], past the 100x50 image
    write_files(tmp_path, refs=[REFS[4], REFS[5]])
    dataset = build(tmp_path, 'testB', dataset_type, serialize_data=False)
    assert len(dataset) == 0 and dataset.skip_counts == {'invalid_box': 1}
    assert any("1 refs; skipped: {'invalid_box': 1}" in m for m in log_messages)
    with pytest.raises(GroundingAnnotationError,
                       match=r'refcoco/instances\.json: annotation 1704 \(ref 4\): box '
                             r'\[90\.0, 10\.0, 120\.0, 20\.0\] lies outside the 100x50 image'):
        build(tmp_path, 'testB', dataset_type, skip_invalid_boxes=False)


@LOADERS
def test_bad_box_of_zero_area(tmp_path, dataset_type, log_messages):
    # annotation 1703: XYWH [5, 5, 0, 10] -> [5, 5, 5, 15]
    write_files(tmp_path, refs=[REFS[3], REFS[5]])
    dataset = build(tmp_path, 'testB', dataset_type, serialize_data=False)
    assert len(dataset) == 0 and dataset.skip_counts == {'invalid_box': 1}
    assert any("skipped: {'invalid_box': 1}" in m for m in log_messages)
    with pytest.raises(GroundingAnnotationError,
                       match=r'instances\.json: annotation 1703 \(ref 3\): box '
                             r'\[5\.0, 5\.0, 5\.0, 15\.0\] has zero or negative area'):
        build(tmp_path, 'testB', dataset_type, skip_invalid_boxes=False)


@LOADERS
def test_bad_empty_sentence(tmp_path, dataset_type, log_messages):
    # ref 1 has sentences 2, 3 (empty) and 4; ref 6 has only an empty one; ref 7 none
    refs = [REFS[1], ref(6, 1701, 581857, 'testA', 1, [sentence(9, ' ')]),
            ref(7, 1701, 581857, 'testA', 1, [])]
    write_files(tmp_path, refs=refs)
    dataset = build(tmp_path, 'testA', dataset_type)
    assert [d['caption_id'] for d in items(dataset)] == [2, 4]
    assert dataset.skip_counts == {'empty_sentence': 2, 'ref_without_sentences': 1}
    assert any("2 sentences of 3 refs; skipped: {'empty_sentence': 2, "
               "'ref_without_sentences': 1}" in m for m in log_messages)


@LOADERS
def test_bad_ref_without_box(tmp_path, dataset_type, log_messages):
    # ref 2 points to annotation 9999, which instances.json does not have
    write_files(tmp_path, refs=[REFS[1], REFS[2], REFS[5]])
    dataset = build(tmp_path, 'testA', dataset_type)
    assert {d['ref_id'] for d in items(dataset)} == {1}
    assert dataset.skip_counts == {'missing_ann': 1, 'empty_sentence': 1}
    assert any("'missing_ann': 1" in m for m in log_messages)
    with pytest.raises(GroundingAnnotationError,
                       match=r'refs\(unc\)\.p: ref 2: ann_id 9999 is not in .*instances\.json'):
        build(tmp_path, 'testA', dataset_type, skip_invalid_boxes=False)


@LOADERS
def test_bad_unknown_split_lists_the_splits_of_the_file(tmp_path, dataset_type):
    write_files(tmp_path)
    with pytest.raises(GroundingAnnotationError,
                       match=r"refcoco/refs\(unc\)\.p: unknown split 'test'; the splits in this "
                             r'file are: testA, testB, train, val'):
        build(tmp_path, 'test', dataset_type)


@LOADERS
def test_bad_truncated_pickle_names_the_file(tmp_path, dataset_type):
    folder = write_files(tmp_path)
    data = (folder / 'refs(unc).p').read_bytes()
    (folder / 'refs(unc).p').write_bytes(data[:len(data) // 2])
    with pytest.raises(GroundingAnnotationError,
                       match=r'refcoco/refs\(unc\)\.p: truncated or corrupt pickle'):
        build(tmp_path, 'train', dataset_type)


@LOADERS
def test_bad_truncated_instances_json_names_the_file(tmp_path, dataset_type):
    folder = write_files(tmp_path)
    text = (folder / 'instances.json').read_text()
    (folder / 'instances.json').write_text(text[:len(text) // 2])
    with pytest.raises(GroundingAnnotationError,
                       match=r'refcoco/instances\.json: malformed or truncated JSON'):
        build(tmp_path, 'train', dataset_type)


@pytest.mark.parametrize('split', ['train', 'val', 'testA', 'testB'])
def test_synthground_refcoco(synthground_root, split):
    dataset = DATASETS.build(
        dict(type='RefCOCODataset', data_root=synthground_root,
             ann_file='refcoco/instances.json', refs_file='refcoco/refs(unc).p', split=split,
             data_prefix=dict(img='images/')))
    with open(osp.join(synthground_root, 'meta.json')) as f:
        expected = json.load(f)['counts']['refcoco'][split]
    assert len(dataset) == expected['sentences'] > 0
    assert dataset.skip_counts == {}
    infos = items(dataset)
    assert len({d['ref_id'] for d in infos}) == expected['refs']
    for info in infos:
        (phrase, ) = info['phrases']
        assert phrase['text'] == info['caption'] and phrase['span'] == (0, len(info['caption']))
        (box, ) = phrase['boxes_xyxy']
        assert check_box(box, info['width'], info['height'], tol=0) is None
        assert osp.isfile(info['img_path'])
