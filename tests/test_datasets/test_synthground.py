"""SynthGround generator: determinism, format fidelity and the truth of every statement, on
the v1 build (``preset='v1'``, the 9 shapes; the default build, v2, is test_synthground_v2.py).

The checks read the written files with small parsers written here from the public format
rules (not with the generator's code), and re-derive relations and referring expressions
from the boxes and attributes.
"""

import hashlib
import json
import os
import os.path as osp
import pickle
import sys
import xml.etree.ElementTree as ET
from collections import Counter

import numpy as np
import pytest
from PIL import Image

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmgrounding.datasets.synthground import (  # noqa: E402
    CATEGORIES,
    COLOURS,
    PHRASE_TYPE_OF_CATEGORY,
    SceneObject,
    build_synthground,
    generate_captions,
    generate_image_record,
    generate_referring_expressions,
    min_separation_px,
    near_threshold_px,
    render_scene,
    sample_scene,
)

NUM_IMAGES = 16
NUMBER_WORDS = {'two': 2, 'three': 3, 'four': 4, 'five': 5, 'six': 6}
VISUAL_TYPES = {'round', 'angular', 'symbol'}


@pytest.fixture(scope='module')
def builds(synthground_build, tmp_path_factory):
    """Two v1 builds with seed 0 (in different folders) and one with seed 1, each with its
    returned counts."""
    second = str(tmp_path_factory.mktemp('synthground_v1_seed0_again'))
    return {
        'a': synthground_build('v1', 0, NUM_IMAGES),
        'b': (second, build_synthground(second, preset='v1', seed=0, num_images=NUM_IMAGES)),
        'c': synthground_build('v1', 1, NUM_IMAGES),
    }


@pytest.fixture(scope='module')
def root(builds):
    return builds['a'][0]


def sha1_tree(root):
    digests = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                digests[osp.relpath(path, root)] = hashlib.sha1(f.read()).hexdigest()
    return digests


def load_json(root, *parts):
    with open(osp.join(root, *parts)) as f:
        return json.load(f)


def parse_flickr_line(line):
    """Official Flickr30k Entities rules: returns (caption, phrases with char spans)."""
    words, phrases, current = [], [], None
    for token in line.split():
        if current is None and token.startswith('['):
            parts = token.split('/')
            current = dict(entity_id=parts[1][3:], types=parts[2:], first=len(words), words=[])
            continue
        closes = current is not None and token.endswith(']')
        word = token[:-1] if closes else token
        words.append(word)
        if current is not None:
            current['words'].append(word)
        if closes:
            phrases.append(current)
            current = None
    assert current is None, f'unclosed phrase in {line!r}'
    for phrase in phrases:
        start = len(' '.join(words[: phrase['first']])) + (1 if phrase['first'] else 0)
        phrase['span'] = (start, start + len(' '.join(phrase['words'])))
    return ' '.join(words), phrases


def parse_flickr_xml(path):
    """Official rules: boxes per entity (1-based inclusive), scene and nobox entity ids."""
    root = ET.parse(path).getroot()
    size = {child.tag: int(child.text) for child in root.find('size')}
    boxes, scene, nobox = {}, [], []
    for obj in root.findall('object'):
        for name in obj.findall('name'):
            bndbox = obj.find('bndbox')
            if bndbox is not None:
                box = [int(bndbox.find(k).text) for k in ('xmin', 'ymin', 'xmax', 'ymax')]
                boxes.setdefault(name.text, []).append(box)
            else:
                if int(obj.find('nobndbox').text) > 0:
                    nobox.append(name.text)
                if int(obj.find('scene').text) > 0:
                    scene.append(name.text)
    return size, boxes, scene, nobox


def image_objects(root):
    """image id -> [dict(ann_id, category, colour, size, box_xywh)] from COCO + VG files."""
    instances = load_json(root, 'refcoco', 'instances.json')
    names = {c['id']: c['name'] for c in instances['categories']}
    vg_attributes = {
        o['object_id']: o['attributes']
        for entry in load_json(root, 'vg', 'attributes.json')
        for o in entry['attributes']
    }
    objects = {image['id']: [] for image in instances['images']}
    for ann in instances['annotations']:
        colour, size = vg_attributes[ann['id']]
        objects[ann['image_id']].append(
            dict(
                ann_id=ann['id'],
                category=names[ann['category_id']],
                colour=colour,
                size=size,
                box_xywh=ann['bbox'],
            )
        )
    return objects, {image['id']: image for image in instances['images']}


def centre(box_xywh):
    x, y, w, h = box_xywh
    return x + w / 2, y + h / 2


def holds(predicate, subject_xywh, object_xywh, *, min_sep, near_px):
    """The relation semantics of the docs: dominant axis of the centre offset, >= min_sep."""
    (sx, sy), (ox, oy) = centre(subject_xywh), centre(object_xywh)
    dx, dy = sx - ox, sy - oy
    if predicate == 'next to':
        (ax, ay, aw, ah), (bx, by, bw, bh) = subject_xywh, object_xywh
        gap_x = max(0, max(ax, bx) - min(ax + aw, bx + bw))
        gap_y = max(0, max(ay, by) - min(ay + ah, by + bh))
        return max(gap_x, gap_y) <= near_px
    along, across = (dx, dy) if predicate in ('left of', 'right of') else (dy, dx)
    sign = -1 if predicate in ('left of', 'above') else 1
    return sign * along >= min_sep and abs(along) > abs(across)


# --------------------------------------------------------------- referring-expression parser
def plural(noun):
    return noun + 'es' if noun.endswith('s') else noun + 's'


NOUNS = {**{c: c for c in CATEGORIES}, **{plural(c): c for c in CATEGORIES}}


def attributes_of(words):
    attrs = {}
    for word in words:
        if word in ('small', 'large'):
            attrs['size'] = word
        elif word in COLOURS:
            attrs['colour'] = word
        elif word in NOUNS:
            attrs['category'] = NOUNS[word]
        else:
            assert word in ('the', 'shape', 'shapes', 'one', 'two'), word
    return attrs


def select(objects, attrs):
    return [i for i, o in enumerate(objects) if all(o[k] == v for k, v in attrs.items())]


def is_extreme(objects, i, members, direction, margin):
    axis = 0 if direction in ('left', 'right') else 1
    sign = -1 if direction in ('left', 'top') else 1
    value = sign * centre(objects[i]['box_xywh'])[axis]
    return all(
        value - sign * centre(objects[m]['box_xywh'])[axis] >= margin for m in members if m != i
    )


def resolve(tokens, objects, *, min_sep):
    """Objects a referring expression can mean, read from its words alone."""
    words = list(tokens)
    for k, word in enumerate(words):
        predicate = None
        if word in ('left', 'right') and words[k + 1 : k + 2] == ['of']:
            predicate, start, end = f'{word} of', k, k + 2
            if k >= 2 and words[k - 2 : k] == ['to', 'the']:
                start = k - 2
        elif word in ('above', 'over', 'below', 'under'):
            predicate = 'above' if word in ('above', 'over') else 'below'
            start, end = k, k + 1
        if predicate is None:
            continue
        landmarks = select(objects, attributes_of(words[end:]))
        assert len(landmarks) == 1, f'ambiguous landmark in {tokens}'
        landmark = landmarks[0]
        axis = 0 if predicate in ('left of', 'right of') else 1
        sign = -1 if predicate in ('left of', 'above') else 1
        landmark_value = sign * centre(objects[landmark]['box_xywh'])[axis]
        # Any look-alike at all on that side (no margin) would make the expression ambiguous.
        found = [
            i
            for i in select(objects, attributes_of(words[:start]))
            if i != landmark and sign * centre(objects[i]['box_xywh'])[axis] > landmark_value
        ]
        assert all(
            holds(
                predicate,
                objects[i]['box_xywh'],
                objects[landmark]['box_xywh'],
                min_sep=min_sep,
                near_px=0,
            )
            for i in found
        ), tokens
        return found
    if 'two' in words:  # "the upper of the two green crosses"
        k = words.index('of')
        direction = {'upper': 'top', 'lower': 'bottom', 'left': 'left', 'right': 'right'}[words[1]]
        members = select(objects, attributes_of(words[k + 3 :]))
        assert len(members) == 2, tokens
        return [i for i in members if is_extreme(objects, i, members, direction, min_sep)]
    spatial = {
        'leftmost': 'left',
        'rightmost': 'right',
        'topmost': 'top',
        'bottommost': 'bottom',
        'left': 'left',
        'right': 'right',
        'top': 'top',
        'bottom': 'bottom',
    }
    directions = [spatial[w] for w in words if w in spatial]
    rest = [w for w in words if w not in spatial and w not in ('on', 'at')]
    members = select(objects, attributes_of(rest))
    return [
        i for i in members if all(is_extreme(objects, i, members, d, min_sep) for d in directions)
    ]


# --------------------------------------------------------------------------------- tests
def test_same_seed_same_bytes_other_seed_differs(builds):
    a, b, c = (sha1_tree(builds[k][0]) for k in 'abc')
    assert len(a) == NUM_IMAGES * 3 + 3 + 2 + 5 + 3 + 1  # images, xml, txt; splits; ...
    assert a == b
    assert set(a) == set(c)
    differing = [path for path in a if a[path] != c[path]]
    assert len(differing) >= NUM_IMAGES * 3  # every image, its sentences and annotation
    assert builds['a'][1] == builds['b'][1]


def test_layout_ids_and_counts(root, builds):
    meta = load_json(root, 'meta.json')
    counts = builds['a'][1]
    assert meta['counts'] == json.loads(json.dumps(counts))
    assert meta['arguments']['seed'] == 0 and meta['arguments']['num_images'] == NUM_IMAGES
    assert meta['phrase_type_of_category'] == PHRASE_TYPE_OF_CATEGORY
    ids = sorted(int(n[:-4]) for n in os.listdir(osp.join(root, 'images')))
    assert ids == list(range(1000001, 1000001 + NUM_IMAGES))
    sizes = {Image.open(osp.join(root, 'images', f'{i}.jpg')).size for i in ids}
    assert len(sizes) >= 2  # not all images share one size
    captions = sum(
        len(load_json(root, 'coco', 'annotations', f'captions_{s}.json')['annotations'])
        for s in ('train', 'val', 'test')
    )
    assert captions == sum(
        counts['flickr30k_entities'][s]['captions'] for s in ('train', 'val', 'test')
    )
    refs = pickle.load(open(osp.join(root, 'refcoco', 'refs(unc).p'), 'rb'))
    assert len(refs) == counts['images']['objects'] == counts['vg']['objects']
    assert sum(len(r['sentences']) for r in refs) == sum(
        v['sentences'] for v in counts['refcoco'].values()
    )


def test_flickr_sentences_parse_and_match_boxes(root):
    objects, images = image_objects(root)
    types_of_entity = {}
    for image_id, image in images.items():
        with open(osp.join(root, 'flickr30k_entities', 'Sentences', f'{image_id}.txt')) as f:
            lines = f.read().splitlines()
        size, boxes, scene, nobox = parse_flickr_xml(
            osp.join(root, 'flickr30k_entities', 'Annotations', f'{image_id}.xml')
        )
        assert (size['width'], size['height'], size['depth']) == (
            image['width'],
            image['height'],
            3,
        )
        assert nobox == [] and '0' not in boxes and '0' not in scene
        split = next(
            s
            for s in ('train', 'val', 'test')
            if str(image_id)
            in open(osp.join(root, 'flickr30k_entities', f'{s}.txt')).read().split()
        )
        coco = load_json(root, 'coco', 'annotations', f'captions_{split}.json')
        coco_captions = [a['caption'] for a in coco['annotations'] if a['image_id'] == image_id]
        assert len(lines) == len(coco_captions) >= 3
        for line, coco_caption in zip(lines, coco_captions):
            caption, phrases = parse_flickr_line(line)
            assert caption == coco_caption
            assert phrases, line
            for phrase in phrases:
                start, end = phrase['span']
                assert caption[start:end] == ' '.join(phrase['words'])
                key = (image_id, phrase['entity_id'])
                assert types_of_entity.setdefault(key, phrase['types']) == phrase['types']
                if phrase['types'] == ['notvisual']:
                    assert phrase['entity_id'] == '0'
                elif phrase['types'] == ['scene']:
                    assert phrase['entity_id'] in scene
                else:
                    assert set(phrase['types']) <= VISUAL_TYPES, line
                    entity_boxes = boxes[phrase['entity_id']]
                    assert entity_boxes, line
                    if phrase['words'][0].lower() in NUMBER_WORDS:  # "two yellow triangles"
                        assert len(entity_boxes) == NUMBER_WORDS[phrase['words'][0].lower()]
                    for xmin, ymin, xmax, ymax in entity_boxes:
                        assert 1 <= xmin <= xmax <= image['width']
                        assert 1 <= ymin <= ymax <= image['height']
        # Every object is mentioned: the Flickr boxes are exactly the COCO boxes (+1 / incl.).
        flickr_xywh = sorted(
            {
                (b[0] - 1, b[1] - 1, b[2] - b[0] + 1, b[3] - b[1] + 1)
                for bs in boxes.values()
                for b in map(tuple, bs)
            }
        )
        assert flickr_xywh == sorted(
            tuple(int(v) for v in o['box_xywh']) for o in objects[image_id]
        )


def test_boxes_agree_across_formats(root):
    objects, images = image_objects(root)
    vg_boxes = {
        o['object_id']: (o['x'], o['y'], o['w'], o['h'])
        for entry in load_json(root, 'vg', 'objects.json')
        for o in entry['objects']
    }
    for image_id, image_objs in objects.items():
        assert 2 <= len(image_objs) <= 6
        for obj in image_objs:
            x, y, w, h = obj['box_xywh']
            assert all(isinstance(v, float) for v in obj['box_xywh'])
            assert vg_boxes[obj['ann_id']] == (x, y, w, h)
            assert w >= 8 and h >= 8 and x >= 0 and y >= 0
            assert x + w <= images[image_id]['width'] and y + h <= images[image_id]['height']
    for entry in load_json(root, 'vg', 'relationships.json'):
        image = images[entry['image_id']]
        min_sep = min_separation_px(image['width'], image['height'])
        near_px = near_threshold_px(image['width'], image['height'])
        for rel in entry['relationships']:
            sub, obj = rel['subject'], rel['object']
            assert vg_boxes[sub['object_id']] == (sub['x'], sub['y'], sub['w'], sub['h'])
            assert holds(
                rel['predicate'],
                vg_boxes[sub['object_id']],
                vg_boxes[obj['object_id']],
                min_sep=min_sep,
                near_px=near_px,
            ), rel


def test_caption_relations_hold(root):
    meta = load_json(root, 'meta.json')
    checked = 0
    split_of = {}
    for split in ('train', 'val', 'test'):
        for line in open(osp.join(root, 'flickr30k_entities', f'{split}.txt')):
            split_of[int(line)] = split
    for index in range(NUM_IMAGES):
        record = generate_image_record(
            index, seed=meta['arguments']['seed'], split=split_of[1000001 + index]
        )
        with open(osp.join(root, 'flickr30k_entities', 'Sentences', f'{record.image_id}.txt')) as f:
            texts = [parse_flickr_line(line)[0] for line in f.read().splitlines()]
        assert texts == [c.text for c in record.captions]  # the files are these captions
        checked += check_caption_relations(record.scene, record.captions, record.entities)
    assert checked > NUM_IMAGES


def check_caption_relations(scene, captions, entities):
    min_sep = min_separation_px(scene.width, scene.height)
    near_px = near_threshold_px(scene.width, scene.height)
    checked = 0
    for caption in captions:
        for subject_id, predicate, object_id in caption.relations:
            for i in entities[subject_id].object_indices:
                for j in entities[object_id].object_indices:
                    assert holds(
                        predicate,
                        scene.objects[i].box_xywh,
                        scene.objects[j].box_xywh,
                        min_sep=min_sep,
                        near_px=near_px,
                    ), caption.text
                    checked += 1
    return checked


def test_relations_hold_in_many_scenes():
    rng = np.random.default_rng(123)
    checked = 0
    for _ in range(150):
        scene = sample_scene(rng, size_wh=(160, 120), num_objects=int(rng.integers(2, 7)))
        captions, entities = generate_captions(scene, rng, num_captions=4)
        checked += check_caption_relations(scene, captions, entities)
        mentioned = {i for e in entities.values() for i in e.object_indices}
        assert mentioned == set(range(len(scene.objects)))
    assert checked > 300


def test_referring_expressions_are_unambiguous(root):
    objects, images = image_objects(root)
    refs = pickle.load(open(osp.join(root, 'refcoco', 'refs(unc).p'), 'rb'))
    assert [r['ref_id'] for r in refs] == list(range(len(refs)))
    for ref in refs:
        image_objs = objects[ref['image_id']]
        target = [o['ann_id'] for o in image_objs].index(ref['ann_id'])
        image = images[ref['image_id']]
        assert ref['file_name'] == f'{ref["image_id"]}_{ref["ann_id"]}.jpg'
        assert 1 <= len(ref['sentences']) <= 3
        assert ref['sent_ids'] == [s['sent_id'] for s in ref['sentences']]
        assert len({s['sent'] for s in ref['sentences']}) == len(ref['sentences'])
        for sentence in ref['sentences']:
            assert sentence['sent'] == ' '.join(sentence['tokens'])
            assert sentence['raw'].lower().rstrip('.') == sentence['sent']
            found = resolve(
                sentence['tokens'],
                image_objs,
                min_sep=min_separation_px(image['width'], image['height']),
            )
            assert found == [target], (sentence['raw'], image_objs)


def test_referring_expressions_unambiguous_in_many_scenes():
    rng = np.random.default_rng(7)
    kinds = Counter()
    for _ in range(200):
        scene = sample_scene(rng, size_wh=(128, 128), num_objects=6)
        objs = [
            dict(category=o.category, colour=o.colour, size=o.size, box_xywh=o.box_xywh)
            for o in scene.objects
        ]
        for target, expressions in enumerate(generate_referring_expressions(scene, rng)):
            for expression in expressions:
                assert resolve(expression.tokens, objs, min_sep=min_separation_px(128, 128)) == [
                    target
                ], expression.raw
                kinds[
                    'spatial'
                    if {'leftmost', 'two', 'left', 'right', 'top', 'bottom', 'topmost'}
                    & set(expression.tokens)
                    else 'other'
                ] += 1
    assert kinds['spatial'] > 50 and kinds['other'] > 50


def test_splits_add_up_and_refcoco_test_rule(root, builds):
    counts = builds['a'][1]['images']
    ids = {}
    for split in ('train', 'val', 'test'):
        with open(osp.join(root, 'flickr30k_entities', f'{split}.txt')) as f:
            ids[split] = [int(line) for line in f]
    assert sum(len(v) for v in ids.values()) == NUM_IMAGES
    assert len(set().union(*map(set, ids.values()))) == NUM_IMAGES
    assert [len(ids[s]) for s in ('train', 'val', 'test')] == [13, 1, 2]  # round(16 * 0.07)
    assert counts['refcoco_testA'] + counts['refcoco_testB'] == counts['test'] == 2
    objects, _ = image_objects(root)
    refs = pickle.load(open(osp.join(root, 'refcoco', 'refs(unc).p'), 'rb'))
    for ref in refs:
        image_objs = objects[ref['image_id']]
        num_round = sum(PHRASE_TYPE_OF_CATEGORY[o['category']] == 'round' for o in image_objs)
        if ref['image_id'] in ids['test']:
            assert ref['split'] == ('testA' if 2 * num_round > len(image_objs) else 'testB')
        else:
            assert ref['split'] == ('train' if ref['image_id'] in ids['train'] else 'val')


def test_default_split_fractions_and_testa_share(tmp_path):
    from mmgrounding.datasets.synthground import assign_splits, refcoco_split

    splits = assign_splits(1500, seed=0)
    assert Counter(splits) == {'train': 1200, 'val': 105, 'test': 195}
    rng = np.random.default_rng(0)
    test_a = sum(
        refcoco_split('test', sample_scene(rng, size_wh=(128, 128), num_objects=4)) == 'testA'
        for _ in range(100)
    )
    assert 15 <= test_a <= 50  # themed scenes make round-majority images common


@pytest.mark.parametrize('num_objects', [2, 6])
def test_scene_renders_every_object(num_objects):
    scene = sample_scene(
        np.random.default_rng(num_objects), size_wh=(192, 144), num_objects=num_objects
    )
    assert len(scene.objects) == num_objects
    pixels = np.asarray(render_scene(scene), dtype=int)  # (H, W, 3)
    assert pixels.shape == (144, 192, 3)
    inside = np.zeros(pixels.shape[:2], dtype=bool)
    for obj in scene.objects:
        x1, y1, x2, y2 = obj.box_xyxy
        inside[y1:y2, x1:x2] = True
        region = pixels[y1:y2, x1:x2]
        close = np.abs(region - np.asarray(COLOURS[obj.colour])).max(axis=-1) < 30
        assert close.mean() > 0.1, obj  # the shape is drawn in its colour inside its box
    for rgb in COLOURS.values():  # vivid colours appear only on objects
        close = np.abs(pixels - np.asarray(rgb)).max(axis=-1) < 30
        assert not (close & ~inside).any()


def test_object_boxes_are_tight_and_visible():
    rng = np.random.default_rng(3)
    for _ in range(50):
        scene = sample_scene(rng, size_wh=(120, 160), num_objects=6)
        for k, obj in enumerate(scene.objects):
            assert isinstance(obj, SceneObject)
            xs, ys = zip(*obj.outline_xy())
            assert (min(xs), min(ys), max(xs), max(ys)) == pytest.approx(obj.box_xyxy)
            x1, y1, x2, y2 = obj.box_xyxy
            covered = np.zeros((y2 - y1, x2 - x1), dtype=bool)
            for later in scene.objects[k + 1 :]:
                lx1, ly1, lx2, ly2 = later.box_xyxy
                covered[
                    max(ly1 - y1, 0) : max(ly2 - y1, 0), max(lx1 - x1, 0) : max(lx2 - x1, 0)
                ] = 1
            assert 1 - covered.mean() >= 0.6


def test_rebuild_replaces_previous_build_and_refuses_other_folders(tmp_path):
    build_synthground(str(tmp_path / 'sg'), preset='v1', seed=2, num_images=6)
    build_synthground(str(tmp_path / 'sg'), preset='v1', seed=2, num_images=4)
    assert len(os.listdir(tmp_path / 'sg' / 'images')) == 4
    assert len(os.listdir(tmp_path / 'sg' / 'flickr30k_entities' / 'Sentences')) == 4
    (tmp_path / 'other').mkdir()
    (tmp_path / 'other' / 'keep.txt').write_text('x')
    with pytest.raises(FileExistsError):
        build_synthground(str(tmp_path / 'other'), preset='v1', num_images=2)
