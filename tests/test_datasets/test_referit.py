"""ReferItGame loaders: the refclef refer layout and the Berkeley JSON files."""
import json
import os.path as osp
import pickle

import pytest

from mmgrounding.datasets import (
    GroundingAnnotationError,
    RefCOCODataset,
    ReferItBerkeleyDataset,
    ReferItGameDataset,
)

# ---------------------------------------------------------------- refclef (refer layout)
REFCLEF_INSTANCES = {
    'images': [{'id': 25294, 'file_name': '25/images/25294.jpg', 'width': 480, 'height': 360}],
    'annotations': [{'id': 7, 'image_id': 25294, 'category_id': 3, 'bbox': [0.0, 0.0, 480.0, 90.5],
                     'area': 43440.0, 'iscrowd': 0, 'segmentation': [[0, 0, 480, 0, 480, 90.5]]}],
    'categories': [{'id': 3, 'name': 'sky', 'supercategory': 'sky'}],
}
REFCLEF_REFS = [{
    'sent_ids': [10, 11], 'file_name': '25294_7.jpg', 'ann_id': 7, 'ref_id': 3,
    'image_id': 25294, 'split': 'test', 'category_id': 3,
    'sentences': [
        {'tokens': ['sky'], 'raw': 'sky', 'sent_id': 10, 'sent': 'sky'},
        {'tokens': ['blue', 'sky', 'top'], 'raw': 'blue sky, top', 'sent_id': 11,
         'sent': 'blue sky top'},
    ],
}, {
    'sent_ids': [12], 'file_name': '25294_7.jpg', 'ann_id': 7, 'ref_id': 4,
    'image_id': 25294, 'split': 'train', 'category_id': 3,
    'sentences': [{'tokens': ['sky'], 'raw': 'sky', 'sent_id': 12, 'sent': 'sky'}],
}]


def test_refclef_reuses_the_refcoco_reader(tmp_path):
    (tmp_path / 'instances.json').write_text(json.dumps(REFCLEF_INSTANCES))
    with open(tmp_path / 'refs(berkeley).p', 'wb') as f:
        pickle.dump(REFCLEF_REFS, f, protocol=2)
    dataset = ReferItGameDataset(
        data_root=str(tmp_path), ann_file='instances.json', refs_file='refs(berkeley).p',
        split='test')
    assert isinstance(dataset, RefCOCODataset)
    assert dataset.metainfo['dataset_name'] == 'referitgame'
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [d['caption'] for d in infos] == ['sky', 'blue sky top']
    # default image folder: saiapr_tc-12/ + the instances file_name
    assert infos[0]['img_path'] == osp.join(str(tmp_path), 'saiapr_tc-12', '25', 'images',
                                            '25294.jpg')
    # [0, 0, 480, 90.5] XYWH -> [0, 0, 480, 90.5] XYXY (x, y are 0)
    assert infos[1]['phrases'][0]['boxes_xyxy'] == [[0.0, 0.0, 480.0, 90.5]]
    assert infos[1]['phrases'][0]['types'] == ['sky']
    with pytest.raises(GroundingAnnotationError, match=r"split 'testA'.*are: test, train"):
        ReferItGameDataset(data_root=str(tmp_path), ann_file='instances.json',
                           refs_file='refs(berkeley).p', split='testA')


# ---------------------------------------------------------------- Berkeley JSON files
# referit_query_<split>.json: {"<img>_<region>": [query, ...]}
QUERIES = {
    '1000_3': ['man on left', '  ', 'guy'],
    '1000_5': ['sky'],
    '1001_1': [],               # region without queries
    '1002_2': ['missing box'],  # region absent from referit_bbox.json
    '1000_7': ['zero box'],     # x_max < x_min
}
# referit_bbox.json: inclusive 0-based pixel indices [x_min, y_min, x_max, y_max]
BOXES = {'1000_3': [10, 20, 29, 59], '1000_5': [0, 0, 479, 359], '1000_7': [5, 5, 3, 10],
         '1001_1': [0, 0, 9, 9]}
# referit_imsize.json: [width, height]
SIZES = {'1000': [480, 360], '1001': [360, 480], '1002': [480, 320]}


def write_berkeley(root, queries=QUERIES, boxes=BOXES, sizes=SIZES, *, extensions=False):
    """The files as published; ``extensions`` writes the keys as ``<img>_<region>.png`` and
    ``<img>.jpg``, as one version of the files does."""
    if extensions:
        queries = {f'{k}.png': v for k, v in queries.items()}
        boxes = {f'{k}.png': v for k, v in boxes.items()}
        sizes = {f'{k}.jpg': v for k, v in sizes.items()}
    folder = root / 'berkeley'
    folder.mkdir(parents=True, exist_ok=True)
    for name, obj in (('referit_query_test.json', queries), ('referit_bbox.json', boxes),
                      ('referit_imsize.json', sizes)):
        (folder / name).write_text(json.dumps(obj))
    return folder


def build_berkeley(root, **kwargs):
    return ReferItBerkeleyDataset(
        data_root=str(root), ann_file='berkeley/referit_query_test.json', pipeline=[], **kwargs)


@pytest.mark.parametrize('extensions', [False, True])
def test_berkeley_queries_boxes_and_skips(tmp_path, extensions):
    write_berkeley(tmp_path, extensions=extensions)
    dataset = build_berkeley(tmp_path)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [(d['ref_id'], d['caption_id'], d['caption']) for d in infos] == [
        ('1000_3', 0, 'man on left'), ('1000_3', 2, 'guy'), ('1000_5', 0, 'sky')]
    man, guy, sky = infos
    # inclusive [10, 20, 29, 59] -> continuous [10, 20, 29 + 1, 59 + 1]
    assert man['phrases'] == [dict(text='man on left', span=(0, 11), entity_id='1000_3',
                                   types=[], boxes_xyxy=[[10, 20, 30, 60]])]
    assert guy['phrases'][0]['boxes_xyxy'] == [[10, 20, 30, 60]]
    # the whole 480x360 image: last pixel indices 479, 359 -> [0, 0, 480, 360]
    assert sky['phrases'][0]['boxes_xyxy'] == [[0, 0, 480, 360]]
    assert (man['img_id'], man['width'], man['height']) == ('1000', 480, 360)
    assert man['img_path'] == osp.join(str(tmp_path), 'ImageCLEF', 'images', '1000.jpg')
    assert dataset.skip_counts == {'empty_sentence': 1, 'ref_without_sentences': 1,
                                   'missing_box': 1, 'invalid_box': 1}


# ----------------------------------------------------------------------------------------
# Bad input of the Berkeley files (issue 3, item 8): one test per case. The refclef files
# are RefCOCO's format; their cases run in test_refcoco.py for ReferItGameDataset too.
def test_berkeley_bad_missing_image_file(tmp_path, log_messages):
    write_berkeley(tmp_path, queries={'1000_3': ['man on left', 'guy'], '1001_1': ['box']})
    images = tmp_path / 'ImageCLEF' / 'images'
    images.mkdir(parents=True)
    (images / '1001.jpg').write_bytes(b'')  # 1000.jpg is missing
    with pytest.raises(GroundingAnnotationError,
                       match=r'referit_query_test\.json: image 1000: image file '
                             r'.*ImageCLEF/images/1000\.jpg does not exist'):
        build_berkeley(tmp_path, missing_images='raise')
    dataset = build_berkeley(tmp_path, missing_images='skip')
    assert [d['ref_id'] for d in dataset] == ['1001_1']
    assert dataset.skip_counts == {'missing_image': 2}
    assert any("1 queries of 2 regions; skipped: {'missing_image': 2}" in m
               for m in log_messages)


def test_berkeley_bad_box_outside_the_image(tmp_path, log_messages):
    # inclusive [400, 300, 480, 359] -> [400, 300, 481, 360]: x2 = 481 in a 480-wide image is
    # within the 1 px tolerance; [400, 300, 499, 359] -> x2 = 500 is not
    write_berkeley(tmp_path, queries={'1000_3': ['edge'], '1000_5': ['past the edge']},
                   boxes={'1000_3': [400, 300, 480, 359], '1000_5': [400, 300, 499, 359]})
    dataset = build_berkeley(tmp_path)
    assert [d['caption'] for d in dataset] == ['edge']
    assert dataset.skip_counts == {'invalid_box': 1}
    assert any("skipped: {'invalid_box': 1}" in m for m in log_messages)
    with pytest.raises(GroundingAnnotationError,
                       match=r'referit_bbox\.json: region 1000_5: box \[400, 300, 500, 360\] lies '
                             r'outside the 480x360 image'):
        build_berkeley(tmp_path, skip_invalid_boxes=False)


def test_berkeley_bad_box_of_zero_area(tmp_path, log_messages):
    # inclusive [5, 5, 3, 10] -> [5, 5, 4, 11]: x_max < x_min
    write_berkeley(tmp_path, queries={'1000_3': ['man'], '1000_7': ['zero box']})
    dataset = build_berkeley(tmp_path)
    assert [d['ref_id'] for d in dataset] == ['1000_3']
    assert dataset.skip_counts == {'invalid_box': 1}
    assert any("skipped: {'invalid_box': 1}" in m for m in log_messages)
    with pytest.raises(GroundingAnnotationError,
                       match=r'referit_bbox\.json: region 1000_7: box \[5, 5, 4, 11\] has zero'):
        build_berkeley(tmp_path, skip_invalid_boxes=False)


def test_berkeley_bad_empty_query(tmp_path, log_messages):
    write_berkeley(tmp_path, queries={'1000_3': ['', 'man', ' \t'], '1001_1': []})
    dataset = build_berkeley(tmp_path)
    assert [(d['caption_id'], d['caption']) for d in dataset] == [(1, 'man')]
    assert dataset.skip_counts == {'empty_sentence': 2, 'ref_without_sentences': 1}
    assert any("1 queries of 2 regions; skipped: {'empty_sentence': 2, "
               "'ref_without_sentences': 1}" in m for m in log_messages)


def test_berkeley_bad_region_without_box(tmp_path, log_messages):
    write_berkeley(tmp_path, queries={'1000_3': ['man'], '1002_2': ['missing box']})
    dataset = build_berkeley(tmp_path)
    assert [d['ref_id'] for d in dataset] == ['1000_3']
    assert dataset.skip_counts == {'missing_box': 1}
    assert any("skipped: {'missing_box': 1}" in m for m in log_messages)
    with pytest.raises(GroundingAnnotationError,
                       match=r'referit_bbox\.json: no box for region 1002_2 of '
                             r'.*referit_query_test\.json'):
        build_berkeley(tmp_path, skip_invalid_boxes=False)


def test_berkeley_bad_unknown_split_lists_the_query_files(tmp_path):
    write_berkeley(tmp_path)
    with pytest.raises(FileNotFoundError,
                       match=r'query file .*referit_query_trainval\.json does not exist; '
                             r'.*berkeley holds: referit_bbox\.json, referit_imsize\.json, '
                             r'referit_query_test\.json'):
        ReferItBerkeleyDataset(data_root=str(tmp_path),
                               ann_file='berkeley/referit_query_trainval.json')


@pytest.mark.parametrize('name', ['referit_query_test.json', 'referit_bbox.json',
                                  'referit_imsize.json'])
def test_berkeley_bad_truncated_json_names_the_file(tmp_path, name):
    folder = write_berkeley(tmp_path)
    text = (folder / name).read_text()
    (folder / name).write_text(text[:len(text) // 2])
    with pytest.raises(GroundingAnnotationError,
                       match=rf'berkeley/{name}: malformed or truncated JSON'):
        build_berkeley(tmp_path)


@pytest.mark.parametrize('files,message', [
    (dict(queries={'1000': ['no region']}), r"key '1000' is not of the form '<img>_<region>'"),
    (dict(queries={'1000_3': 'man'}), r"referit_query_test\.json: '1000_3': expected a list"),
    (dict(boxes={'1000_3': [1, 2, 3]}), r"referit_bbox\.json: '1000_3': expected 4 numbers"),
    (dict(sizes={'1001': [1, 2]}), r'referit_imsize\.json: no size for image 1000'),
    (dict(queries=['1000_3']), r'referit_query_test\.json: expected a JSON object'),
])
def test_berkeley_malformed_files(tmp_path, files, message):
    write_berkeley(tmp_path, **files)
    with pytest.raises(GroundingAnnotationError, match=message):
        build_berkeley(tmp_path)


def test_berkeley_reads_synthground_refs_written_as_berkeley_files(synthground_root, tmp_path):
    """SynthGround has no Berkeley files: write its val refs as them, and read both ways."""
    with open(osp.join(synthground_root, 'refcoco', 'refs(unc).p'), 'rb') as f:
        refs = [r for r in pickle.load(f) if r['split'] == 'val']
    with open(osp.join(synthground_root, 'refcoco', 'instances.json')) as f:
        instances = json.load(f)
    anns = {a['id']: a for a in instances['annotations']}
    queries = {f"{r['image_id']}_{r['ann_id']}": [s['sent'] for s in r['sentences']]
               for r in refs}
    boxes = {}
    for r in refs:
        x, y, w, h = anns[r['ann_id']]['bbox']
        boxes[f"{r['image_id']}_{r['ann_id']}"] = [x, y, x + w - 1, y + h - 1]  # inclusive
    sizes = {str(i['id']): [i['width'], i['height']] for i in instances['images']}
    write_berkeley(tmp_path, queries, boxes, sizes)
    berkeley = ReferItBerkeleyDataset(
        data_root=str(tmp_path), ann_file='berkeley/referit_query_test.json',
        data_prefix=dict(img=osp.join(synthground_root, 'images', '')), pipeline=[],
        missing_images='raise')
    refclef = ReferItGameDataset(
        data_root=synthground_root, ann_file='refcoco/instances.json',
        refs_file='refcoco/refs(unc).p', split='val', data_prefix=dict(img='images/'),
        pipeline=[], missing_images='raise')
    assert len(berkeley) == len(refclef) > 0 and berkeley.skip_counts == {}
    def queries_and_boxes(dataset):
        return sorted((str(item['img_id']), item['caption'], item['phrases'][0]['boxes_xyxy'][0])
                      for item in dataset)

    assert queries_and_boxes(berkeley) == queries_and_boxes(refclef)
