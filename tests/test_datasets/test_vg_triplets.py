"""Visual Genome -> AMC triplets, on small hand-written files in the official format."""

import importlib.util
import json
import os
import os.path as osp

import pytest

from mmgrounding.datasets import GroundingAnnotationError, VisualGenomeTripletDataset
from mmgrounding.datasets.vg_triplets import (
    box_area_frac,
    object_prompts,
    region_prompts,
    spatial_prompts,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# Image 1 is 100x100 (8% = 800 px^2), image 2 is 200x100 (8% = 1600 px^2), image 3 has no
# annotations. Boxes are XYWH in the files.
IMAGE_DATA = [
    dict(
        image_id=1,
        width=100,
        height=100,
        url='https://host/VG_100K/1.jpg',
        coco_id=None,
        flickr_id=None,
    ),
    dict(
        image_id=2,
        width=200,
        height=100,
        url='https://host/VG_100K_2/2.jpg',
        coco_id=None,
        flickr_id=None,
    ),
    dict(
        image_id=3,
        width=50,
        height=50,
        url='https://host/VG_100K/3.jpg',
        coco_id=None,
        flickr_id=None,
    ),
]
OBJECTS = [
    dict(
        image_id=1,
        objects=[
            # [0, 0, 40, 30]: 12%, centre (20, 15): top-left cell of the 3x3 grid
            dict(object_id=101, x=0, y=0, w=40, h=30, names=['dog'], synsets=[]),
            # [60, 60, 100, 100]: 16%, centre (80, 80): bottom-right cell
            dict(object_id=102, x=60, y=60, w=40, h=40, names=['Dog '], synsets=[]),
            # [0, 50, 10, 60]: 1% -> dropped, but it is the leftmost dog (centre x 5)
            dict(object_id=103, x=0, y=50, w=10, h=10, names=['dog'], synsets=[]),
            # [70, 0, 100, 30]: 9%
            dict(object_id=104, x=70, y=0, w=30, h=30, names=['apple'], synsets=[]),
            # zero width: invalid
            dict(object_id=105, x=10, y=10, w=0, h=10, names=['cat'], synsets=[]),
            # [80, -10, 110, 50] reaches past the border -> clipped to [80, 0, 100, 50]: 10%;
            # VG 1.0 spells the name as 'name'
            dict(object_id=106, x=80, y=-10, w=30, h=60, name='Tree'),
        ],
    ),
    dict(
        image_id=2,
        objects=[
            # two men at the same height: left/right prompts, no top/bottom (tie), no corner
            dict(object_id=201, x=10, y=10, w=40, h=80, names=['man'], synsets=[]),
            dict(object_id=202, x=150, y=10, w=40, h=80, names=['man'], synsets=[]),
        ],
    ),
]
ATTRIBUTES = [
    dict(
        image_id=1,
        attributes=[
            dict(object_id=101, x=0, y=0, w=40, h=30, names=['dog'], attributes=['Brown', 'furry']),
            dict(object_id=102, x=60, y=60, w=40, h=40, names=['dog']),
            dict(object_id=104, x=70, y=0, w=30, h=30, names=['apple'], attributes=['orange']),
        ],
    ),
    dict(
        image_id=2,
        attributes=[
            dict(
                object_id=201, x=10, y=10, w=40, h=80, names=['man'], attributes=['tall', 'young']
            ),
            # an attribute equal to the name is not repeated
            dict(object_id=202, x=150, y=10, w=40, h=80, names=['man'], attributes=['man']),
        ],
    ),
]
REGIONS = [
    dict(
        id=1,
        regions=[
            # [0, 0, 50, 40]: 20%; the double space is normalised
            dict(
                region_id=11,
                image_id=1,
                phrase='a brown dog  on grass',
                x=0,
                y=0,
                width=50,
                height=40,
            ),
            dict(region_id=12, image_id=1, phrase='tiny thing', x=5, y=5, width=5, height=5),
            dict(region_id=13, image_id=1, phrase=' ', x=0, y=0, width=50, height=50),
        ],
    ),
    dict(id=2, regions=[]),
]

# Expected (source, prompt, box) of image 1 then image 2, in order: object prompts of the
# kept objects, spatial prompts (the dogs: "on the left" would be the small dog 103, so it is
# dropped; 102 is rightmost and bottommost; 101 is topmost; corners), then regions.
EXPECTED = [
    (1, 'objects', 'object', 'a brown dog', [0.0, 0.0, 40.0, 30.0], 101),
    (1, 'objects', 'object', 'a dog', [60.0, 60.0, 100.0, 100.0], 102),
    (1, 'objects', 'object', 'an orange apple', [70.0, 0.0, 100.0, 30.0], 104),
    (1, 'objects', 'object', 'a tree', [80.0, 0.0, 100.0, 50.0], 106),
    (1, 'objects', 'spatial', 'dog on the right', [60.0, 60.0, 100.0, 100.0], 102),
    (1, 'objects', 'spatial', 'top dog', [0.0, 0.0, 40.0, 30.0], 101),
    (1, 'objects', 'spatial', 'bottom dog', [60.0, 60.0, 100.0, 100.0], 102),
    (1, 'objects', 'spatial', 'top left dog', [0.0, 0.0, 40.0, 30.0], 101),
    (1, 'objects', 'spatial', 'bottom right dog', [60.0, 60.0, 100.0, 100.0], 102),
    (1, 'regions', 'region', 'a brown dog on grass', [0.0, 0.0, 50.0, 40.0], 11),
    (2, 'objects', 'object', 'a tall man', [10.0, 10.0, 50.0, 90.0], 201),
    (2, 'objects', 'object', 'a man', [150.0, 10.0, 190.0, 90.0], 202),
    (2, 'objects', 'spatial', 'man on the left', [10.0, 10.0, 50.0, 90.0], 201),
    (2, 'objects', 'spatial', 'man on the right', [150.0, 10.0, 190.0, 90.0], 202),
]


def write_vg(root, **overrides):
    files = dict(
        image_data=IMAGE_DATA, objects=OBJECTS, attributes=ATTRIBUTES, region_descriptions=REGIONS
    )
    files.update(overrides)
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        if content is not None:
            (root / f'{name}.json').write_text(
                content if isinstance(content, str) else json.dumps(content)
            )
    return root


def build(root, **kwargs):
    return VisualGenomeTripletDataset(
        data_root=str(root), ann_file=kwargs.pop('ann_file', ''), pipeline=[], **kwargs
    )


def summary(dataset):
    return [
        (
            d['img_id'],
            d['source'],
            d['prompt_type'],
            d['caption'],
            d['phrases'][0]['boxes_xyxy'][0],
            int(d['phrases'][0]['entity_id']),
        )
        for d in dataset
    ]


def load_converter():
    path = osp.join(REPO, 'tools', 'dataset_converters', 'vg_to_triplets.py')
    spec = importlib.util.spec_from_file_location('vg_to_triplets', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_object_prompts_article_and_attributes():
    objects = [
        dict(object_id=1, name='dog', attributes=['brown', 'furry'], box_xyxy=[0] * 4),
        dict(object_id=2, name='owl', attributes=[], box_xyxy=[0] * 4),
        dict(object_id=3, name='white clouds', attributes=['white', 'fluffy'], box_xyxy=[0] * 4),
    ]
    texts = [p['text'] for p in object_prompts(objects)]
    assert texts == ['a brown dog', 'an owl', 'a fluffy white clouds']
    texts = [p['text'] for p in object_prompts(objects, max_attributes=2)]
    assert texts == ['a brown furry dog', 'an owl', 'a fluffy white clouds']
    assert [p['text'] for p in object_prompts(objects, max_attributes=0)][0] == 'a dog'


def test_spatial_prompts_only_for_repeated_names():
    # 90x90 image, grid cells of 30 px. Cups at centres (10, 10), (45, 80), (80, 10): left
    # 1, right 3, top tie between 1 and 3 -> none, bottom 2; corners: 1 top left, 3 top
    # right; 2 is in the bottom-middle cell. The single plate gets nothing.
    cups = [
        dict(object_id=i, name='cup', box_xyxy=box)
        for i, box in ((1, [0, 0, 20, 20]), (2, [40, 70, 50, 90]), (3, [70, 0, 90, 20]))
    ]
    plate = dict(object_id=4, name='plate', box_xyxy=[0, 60, 20, 80])
    prompts = spatial_prompts(cups + [plate], width=90, height=90)
    assert [(p['text'], p['ref_id']) for p in prompts] == [
        ('cup on the left', 1),
        ('cup on the right', 3),
        ('bottom cup', 2),
        ('top left cup', 1),
        ('top right cup', 3),
    ]
    assert all(p['prompt_type'] == 'spatial' for p in prompts)


def test_region_prompts_and_area_fraction():
    prompts = region_prompts([dict(region_id=7, phrase='a red car', box_xyxy=[0, 0, 10, 8])])
    assert prompts == [
        dict(text='a red car', box_xyxy=[0, 0, 10, 8], ref_id=7, prompt_type='region')
    ]
    assert box_area_frac([0, 0, 10, 8], 20, 50) == pytest.approx(0.08)  # 80 / 1000


def test_loads_raw_folder(tmp_path):
    dataset = build(write_vg(tmp_path / 'vg'))
    assert summary(dataset) == EXPECTED
    first = dataset[0]
    assert first['img_path'] == osp.join(str(tmp_path / 'vg'), 'VG_100K', '1.jpg')
    assert (first['width'], first['height'], first['caption_id']) == (100, 100, 0)
    assert first['phrases'][0]['span'] == (0, len('a brown dog'))
    assert first['phrases'][0]['types'] == ['object']
    assert dataset[10]['img_path'].endswith(osp.join('VG_100K_2', '2.jpg'))
    assert dataset[10]['caption_id'] == 0
    assert dataset.counts == {
        'images': 2,
        'images_without_triplets': 1,
        'triplets_objects': 13,
        'triplets_regions': 1,
        'spatial_prompts': 7,
        'small_object_boxes': 1,
        'small_region_boxes': 1,
        'invalid_boxes': 1,
        'clipped_boxes': 1,
        'empty_region_phrases': 1,
    }


def test_sources_area_fraction_and_options(tmp_path):
    root = write_vg(tmp_path / 'vg')
    objects_only = build(root, sources=('objects',))
    assert summary(objects_only) == [e for e in EXPECTED if e[1] == 'objects']
    regions_only = build(root, sources=['regions'])
    assert summary(regions_only) == [e for e in EXPECTED if e[1] == 'regions']
    no_spatial = build(root, spatial=False)
    assert all(d['prompt_type'] != 'spatial' for d in no_spatial)
    assert len(no_spatial) == len(EXPECTED) - 7
    # without the area rule the small dog 103 appears and takes "dog on the left"
    everything = build(root, min_box_area_frac=0.0)
    texts = [(d['caption'], int(d['phrases'][0]['entity_id'])) for d in everything]
    assert ('dog on the left', 103) in texts and ('tiny thing', 12) in texts
    assert everything.counts['small_object_boxes'] == 0
    # url_folders=False: every image directly in the image folder
    flat = build(root, data_prefix=dict(img='images/'), url_folders=False)
    assert flat[0]['img_path'] == osp.join(str(root), 'images', '1.jpg')
    with pytest.raises(ValueError, match='sources'):
        build(root, sources=('relationships',))


def test_converter_writes_json_the_dataset_reads(tmp_path, capsys):
    root = write_vg(tmp_path / 'vg')
    out = tmp_path / 'out' / 'triplets.json'
    counts = load_converter().main([str(root), '--out', str(out)])
    printed = capsys.readouterr().out
    assert '14 triplets' in printed
    assert 'objects 13, regions 1 (spatial prompts 7)' in printed
    assert 'dropped small boxes: objects 1, regions 1' in printed
    assert counts['images'] == 2
    assert os.listdir(out.parent) == ['triplets.json']  # the temporary file is gone
    data = json.loads(out.read_text())
    assert data['info']['min_box_area_frac'] == 0.08
    assert data['images'][0] == dict(
        image_id=1, width=100, height=100, file_name='VG_100K/1.jpg', coco_id=None, flickr_id=None
    )
    # same items as from the raw folder (data_root = the VG folder, so paths agree)
    from_json = build(root, ann_file=str(out))
    assert [dict(d) for d in from_json] == [dict(d) for d in build(root)]
    # the dataset can narrow a file down: regions only, a larger area threshold
    narrowed = build(root, ann_file=str(out), sources=('regions',), min_box_area_frac=0.15)
    assert summary(narrowed) == [e for e in EXPECTED if e[1] == 'regions']  # 20% >= 15%
    narrowed = build(root, ann_file=str(out), min_box_area_frac=0.15)
    # boxes of 12% and 9% and 10% go: the 16% dog, the 20% region and the 16% men stay
    assert {e[3] for e in summary(narrowed)} == {
        'a dog',
        'dog on the right',
        'bottom dog',
        'bottom right dog',
        'a brown dog on grass',
        'a tall man',
        'a man',
        'man on the left',
        'man on the right',
    }


def test_converter_source_choice(tmp_path, capsys):
    root = write_vg(tmp_path / 'vg', region_descriptions=None)  # not needed for objects
    out = tmp_path / 'objects.json'
    counts = load_converter().main(
        [str(root), '--out', str(out), '--sources', 'objects', '--min-box-area-frac', '0']
    )
    assert counts['triplets_regions'] == 0 and counts['small_object_boxes'] == 0
    assert 'dropped small boxes: objects 0, regions 0' in capsys.readouterr().out


# ----------------------------------------------------------------------------------------
# Bad input (issue 3, item 8): one test per case, on image 1 (100x100) of IMAGE_DATA.
def write_image_1(root, objects=(), regions=()):
    """VG files with the given objects and regions of image 1 (and no attributes)."""
    return write_vg(
        root,
        objects=[dict(image_id=1, objects=list(objects))],
        attributes=[dict(image_id=1, attributes=[])],
        region_descriptions=[dict(id=1, regions=list(regions))],
    )


DOG = dict(object_id=1, x=0, y=0, w=40, h=30, names=['dog'])  # 12% of image 1


def test_bad_missing_annotation_file(tmp_path):
    root = write_vg(tmp_path / 'vg', attributes=None)
    with pytest.raises(FileNotFoundError, match=r'file .*vg/attributes\.json does not exist'):
        build(root)


@pytest.mark.parametrize('name', ['image_data', 'objects', 'attributes', 'region_descriptions'])
def test_bad_truncated_json_names_the_file(tmp_path, name):
    content = dict(
        image_data=IMAGE_DATA, objects=OBJECTS, attributes=ATTRIBUTES, region_descriptions=REGIONS
    )[name]
    root = write_vg(tmp_path / 'vg', **{name: json.dumps(content)[:-40]})
    with pytest.raises(
        GroundingAnnotationError, match=rf'vg/{name}\.json: malformed or truncated JSON'
    ):
        build(root)


def test_bad_truncated_triplets_file_names_it(tmp_path):
    root = write_vg(tmp_path / 'vg')
    out = tmp_path / 'triplets.json'
    load_converter().main([str(root), '--out', str(out)])
    out.write_text(out.read_text()[:-100])
    with pytest.raises(
        GroundingAnnotationError, match=r'triplets\.json: malformed or truncated JSON'
    ):
        build(root, ann_file=str(out))


def test_bad_missing_image_file(tmp_path, log_messages):
    root = write_vg(tmp_path / 'vg')
    (root / 'VG_100K_2').mkdir()
    (root / 'VG_100K_2' / '2.jpg').write_bytes(b'')  # VG_100K/1.jpg is missing
    with pytest.raises(
        GroundingAnnotationError,
        match=r'vg/image_data\.json: image 1: image file .*vg/VG_100K/1\.jpg does '
        'not exist',
    ):
        build(root, missing_images='raise')
    dataset = build(root, missing_images='skip')
    assert {d['img_id'] for d in dataset} == {2} and len(dataset) == 4
    assert dataset.counts['missing_image'] == 10  # the 10 triplets of image 1 (EXPECTED)
    assert any('1 missing images, 10 items skipped' in m for m in log_messages)


def test_bad_box_outside_the_image(tmp_path, log_messages):
    # object 2 lies wholly right of the 100x100 image: skipped; region 3 reaches past the
    # bottom and is clipped: [0, 50, 100, 150] -> [0, 50, 100, 100]
    root = write_image_1(
        tmp_path / 'vg',
        objects=[DOG, dict(object_id=2, x=120, y=0, w=40, h=40, names=['cat'])],
        regions=[dict(region_id=3, phrase='grass', x=0, y=50, width=100, height=100)],
    )
    dataset = build(root)
    assert summary(dataset) == [
        (1, 'objects', 'object', 'a dog', [0.0, 0.0, 40.0, 30.0], 1),
        (1, 'regions', 'region', 'grass', [0.0, 50.0, 100.0, 100.0], 3),
    ]
    assert dataset.counts['invalid_boxes'] == 1 and dataset.counts['clipped_boxes'] == 1
    assert any("'invalid_boxes': 1" in m for m in log_messages)
    with pytest.raises(
        GroundingAnnotationError,
        match=r'objects\.json: record #0, object 2 of image 1: box '
        r'\[120\.0, 0\.0, 160\.0, 40\.0\] lies outside the 100x100 image',
    ):
        build(root, skip_invalid_boxes=False)


def test_bad_box_of_zero_area(tmp_path, log_messages):
    root = write_image_1(
        tmp_path / 'vg',
        objects=[DOG],
        regions=[dict(region_id=3, phrase='a line', x=10, y=10, width=50, height=0)],
    )
    dataset = build(root)
    assert [d['caption'] for d in dataset] == ['a dog']
    assert dataset.counts['invalid_boxes'] == 1
    assert any("'invalid_boxes': 1" in m for m in log_messages)
    with pytest.raises(
        GroundingAnnotationError,
        match=r'region_descriptions\.json: record #0, region 3 of image 1: box '
        r'\[10\.0, 10\.0, 60\.0, 10\.0\] has zero or negative area',
    ):
        build(root, skip_invalid_boxes=False)


def test_bad_empty_text(tmp_path, log_messages):
    # an object without a name and a region with a blank phrase give no prompt
    root = write_image_1(
        tmp_path / 'vg',
        objects=[DOG, dict(DOG, object_id=2, names=[' '])],
        regions=[dict(region_id=3, phrase=' \n', x=0, y=0, width=50, height=50)],
    )
    dataset = build(root)
    assert [d['caption'] for d in dataset] == ['a dog']
    assert (dataset.counts['unnamed_objects'], dataset.counts['empty_region_phrases']) == (1, 1)
    assert any(
        "'empty_region_phrases': 1" in m and "'unnamed_objects': 1" in m for m in log_messages
    )


@pytest.mark.parametrize('key', ['objects', 'regions'])
def test_bad_record_without_box(tmp_path, key):
    if key == 'objects':
        root = write_image_1(tmp_path / 'vg', objects=[DOG, dict(object_id=2, names=['cat'])])
        message = r'objects\.json: record #0, object 2 of image 1 has no valid x/y/w/h'
    else:
        root = write_image_1(tmp_path / 'vg', regions=[dict(region_id=3, phrase='grass', x=0)])
        message = r'region_descriptions\.json: record #0, region 3 of image 1 has no valid'
    with pytest.raises(GroundingAnnotationError, match=message):
        build(root)


def test_bad_unknown_image_ids_file_lists_the_split_files(tmp_path):
    root = write_vg(tmp_path / 'vg')
    (root / 'train.txt').write_text('1\n')
    with pytest.raises(
        FileNotFoundError, match=r'split file .*vg/tain\.txt does not exist; .*vg holds: train\.txt'
    ):
        build(root, image_ids_file='tain.txt')
    assert {d['img_id'] for d in build(root, image_ids_file='train.txt')} == {1}


def test_bad_image_unknown_to_image_data(tmp_path):
    regions = REGIONS + [dict(id=99, regions=[])]
    root = write_vg(tmp_path / 'vg', region_descriptions=regions)
    with pytest.raises(
        GroundingAnnotationError,
        match=r'region_descriptions\.json: record #2: image 99 has no entry in '
        r'.*image_data\.json',
    ):
        build(root)


def test_bad_image_without_size(tmp_path):
    root = write_vg(tmp_path / 'vg', image_data=[dict(image_id=1, url='x/1.jpg')])
    with pytest.raises(
        GroundingAnnotationError,
        match=r'image_data\.json: record #0 \(image 1\) has no valid width/height',
    ):
        build(root)


@pytest.mark.parametrize(
    'content,message',
    [
        ('{"images": []}', 'not a triplets file'),
        (
            json.dumps(
                dict(
                    images=[dict(image_id=1, width=10, height=10, file_name='1.jpg')],
                    triplets=[
                        dict(image_id=1, text='a dog', box_xyxy=[0, 0, 5, 5], source='objects')
                    ],
                )
            ),
            r"triplet #0 lacks \['prompt_type', 'ref_id'\]",
        ),
    ],
)
def test_bad_triplets_file_records(tmp_path, content, message):
    (tmp_path / 'bad.json').write_text(content)
    with pytest.raises(GroundingAnnotationError, match=r'bad\.json: ' + message):
        build(tmp_path, ann_file='bad.json')


def test_synthground_vg(synthground_root):
    vg = osp.join(synthground_root, 'vg')
    dataset = VisualGenomeTripletDataset(data_root=synthground_root, ann_file='vg/', pipeline=[])
    counts = dataset.counts
    assert counts['triplets_objects'] > 0 and counts['triplets_regions'] > 0
    assert counts['spatial_prompts'] > 0
    assert counts['small_object_boxes'] > 0  # SynthGround has small shapes
    assert len(dataset) == counts['triplets_objects'] + counts['triplets_regions']
    with open(osp.join(vg, 'objects.json')) as f:
        names = {o['object_id']: o['names'][0] for r in json.load(f) for o in r['objects']}
    for item in dataset:
        (box,), width, height = item['phrases'][0]['boxes_xyxy'], item['width'], item['height']
        x1, y1, x2, y2 = box
        assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
        assert (x2 - x1) * (y2 - y1) >= 0.08 * width * height
        assert osp.isfile(item['img_path'])
        if item['source'] == 'objects':
            assert names[int(item['phrases'][0]['entity_id'])] in item['caption']
    # the spatial words hold: "X on the left" has the smallest centre x among all Xs
    with open(osp.join(vg, 'objects.json')) as f:
        by_image = {r['image_id']: r['objects'] for r in json.load(f)}
    for item in dataset:
        if not item['caption'].endswith(' on the left'):
            continue
        name = item['caption'][: -len(' on the left')]
        xs = [o['x'] + o['w'] / 2 for o in by_image[item['img_id']] if o['names'][0] == name]
        x1, _, x2, _ = item['phrases'][0]['boxes_xyxy'][0]
        assert len(xs) >= 2 and (x1 + x2) / 2 == min(xs) and xs.count(min(xs)) == 1


@pytest.mark.parametrize('config', ['synthground_vg_triplets.py', 'vg_triplets.py'])
def test_config_pipeline_on_synthground(config, synthground_root):
    from mmengine.config import Config

    from mmgrounding.registry import DATASETS

    cfg = Config.fromfile(osp.join(REPO, 'configs', '_base_', 'datasets', config))
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.update(data_root=synthground_root, ann_file='vg/')
    dataset = DATASETS.build(dataset_cfg)
    packed = dataset[0]
    size = cfg.train_pipeline[2]['scale'][::-1]
    assert packed['inputs'].shape == (3, *size)
    sample = packed['data_samples']
    assert sample.metainfo['phrases'] == [sample.metainfo['caption']]
    ((x1, y1, x2, y2),) = sample.gt_instances.bboxes.tolist()
    assert 0 <= x1 < x2 <= size[1] and 0 <= y1 < y2 <= size[0]


def test_image_ids_file_keeps_listed_images_only(synthground_root):
    from mmgrounding.datasets import VisualGenomeTripletDataset

    common = dict(
        data_root=synthground_root,
        ann_file='vg',
        data_prefix=dict(img=''),
        min_box_area_frac=0.0,
        pipeline=[],
    )
    everything = VisualGenomeTripletDataset(**common)
    train = VisualGenomeTripletDataset(image_ids_file='flickr30k_entities/train.txt', **common)
    with open(synthground_root + 'flickr30k_entities/train.txt') as f:
        train_ids = {line.strip() for line in f if line.strip()}
    kept = {str(train[i]['img_id']) for i in range(len(train))}
    assert kept <= train_ids and 0 < len(train) < len(everything)
    assert train.counts['triplets_of_unlisted_images'] == len(everything) - len(train)


def load_eval_ids_tool():
    path = osp.join(REPO, 'tools', 'dataset_converters', 'refcoco_eval_image_ids.py')
    spec = importlib.util.spec_from_file_location('refcoco_eval_image_ids', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_shared_images(tmp_path):
    """VG image 1 is COCO image 500, image 2 is Flickr image 36979; image 3 neither."""
    image_data = [dict(r) for r in IMAGE_DATA]
    image_data[0]['coco_id'] = 500
    image_data[1]['flickr_id'] = 36979
    return write_vg(tmp_path / 'vg', image_data=image_data)


def test_eval_images_excluded_by_default(tmp_path, log_messages):
    import pickle

    root = write_shared_images(tmp_path)
    # without the id files the default exclusion cannot run and names the file it needs
    with pytest.raises(
        FileNotFoundError,
        match=r'flickr30k/flickr30k_entities/val\.txt: the '
        r'flickr_ids of evaluation images .*1 images',
    ):
        build(root)
    # Flickr30k Entities split files next to data/vg (../flickr30k/...): 36979 is in test
    entities = tmp_path / 'flickr30k' / 'flickr30k_entities'
    entities.mkdir(parents=True)
    (entities / 'val.txt').write_text('1000092795\n')
    (entities / 'test.txt').write_text('36979\n')
    with pytest.raises(
        FileNotFoundError,
        match=r'refcoco_eval_coco_ids\.txt: the coco_ids '
        r'of evaluation images .*1 images',
    ):
        build(root)
    # the COCO ids of RefCOCO's non-train refs, from a refs pickle (image 500 is in testA,
    # image 600 only in train)
    refs = [
        dict(ref_id=1, ann_id=1, image_id=500, split='testA', sentences=[]),
        dict(ref_id=2, ann_id=2, image_id=600, split='train', sentences=[]),
        dict(ref_id=3, ann_id=3, image_id=500, split='val', sentences=[]),
    ]
    (tmp_path / 'refcoco').mkdir()
    with open(tmp_path / 'refcoco' / 'refs(unc).p', 'wb') as f:
        pickle.dump(refs, f)
    ids = load_eval_ids_tool().main(
        [
            str(tmp_path / 'refcoco' / 'refs(unc).p'),
            '--out',
            str(root / 'refcoco_eval_coco_ids.txt'),
        ]
    )
    assert ids == {500}
    assert (root / 'refcoco_eval_coco_ids.txt').read_text() == '500\n'
    dataset = build(root, serialize_data=False)  # mmengine cannot serialise an empty list
    # image 1 (10 triplets) and image 2 (4 triplets) are evaluation images: nothing is left
    assert len(dataset) == 0
    assert dataset.counts['eval_images_excluded_coco_id'] == 1
    assert dataset.counts['eval_images_excluded_flickr_id'] == 1
    assert dataset.counts['triplets_of_eval_images'] == len(EXPECTED)
    assert any("'triplets_of_eval_images': 14" in m for m in log_messages)
    # image 2 is not a Flickr30k evaluation image: its 4 triplets stay
    (entities / 'test.txt').write_text('99\n')
    assert summary(build(root)) == [e for e in EXPECTED if e[0] == 2]
    # off: everything is kept
    assert summary(build(root, exclude_eval_images=None)) == EXPECTED
    with pytest.raises(ValueError, match='exclude_eval_images keys'):
        build(root, exclude_eval_images=dict(refcoco=('x.txt',)))


def test_eval_images_excluded_from_a_triplets_file(tmp_path, capsys):
    root = write_shared_images(tmp_path)
    out = root / 'triplets.json'
    load_converter().main([str(root), '--out', str(out)])
    (root / 'coco.txt').write_text('500\n')
    dataset = build(root, ann_file='triplets.json', exclude_eval_images=dict(coco_id='coco.txt'))
    # the file keeps each image's coco_id: image 1's 10 triplets are left out
    assert summary(dataset) == [e for e in EXPECTED if e[0] == 2]
    assert dataset.counts['triplets_of_eval_images'] == 10
