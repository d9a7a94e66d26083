"""SynthGround's v2 preset: WordNet noun hierarchy, context-dependent references, telling
parts and a ReferItGame split of its own, read back from the written files.

Referring expressions are re-resolved from their words with the hierarchy's semantics (a noun
names every object whose hypernym chain holds its synset: "the dog" is ambiguous beside a
poodle), and the project's own loaders read every format of a tiny build.
"""

import hashlib
import json
import os.path as osp
import pickle
import unicodedata
from collections import Counter

import numpy as np
import pytest

from mmgrounding.datasets import (
    Flickr30kEntitiesDataset,
    RefCOCODataset,
    ReferItBerkeleyDataset,
    ReferItGameDataset,
    VisualGenomeTripletDataset,
)
from mmgrounding.datasets.synthground import (
    COLOURS,
    CONCEPT_NOUNS,
    PICTOGRAM_CATEGORIES,
    SPLITS,
    SUPERCATEGORY_PHRASE_TYPES,
    SynthGroundConfig,
    build_synthground,
    font_path,
    generate_image_record,
    object_alpha,
    render_scene,
    resolve_options,
)
from mmgrounding.datasets.synthground.taxonomy import PART_COLOURS

pytestmark = pytest.mark.skipif(
    not osp.isfile(font_path()),
    reason=f'the Symbola font {font_path()} is not installed (tools/setup_env.sh installs it)',
)
NUM_IMAGES, NUM_REFERIT = 24, 12
NUMBER_WORDS = {'two': 2, 'three': 3, 'four': 4, 'five': 5, 'six': 6}


@pytest.fixture(scope='module')
def root(synthground_build):
    return synthground_build('v2', 0, NUM_IMAGES, referit_num_images=NUM_REFERIT)[0]


def load_json(root, *parts):
    with open(osp.join(root, *parts)) as f:
        return json.load(f)


def load_pickle(root, *parts):
    with open(osp.join(root, *parts), 'rb') as f:
        return pickle.load(f)


def sha1(path):
    with open(path, 'rb') as f:
        return hashlib.sha1(f.read()).hexdigest()


# ------------------------------------------------------------------- the hierarchy, as data
def test_categories_supercategories_and_glyph_table():
    supercategories = Counter(c.supercategory for c in PICTOGRAM_CATEGORIES)
    assert len(PICTOGRAM_CATEGORIES) >= 40 and len(supercategories) >= 6
    assert set(supercategories) == set(SUPERCATEGORY_PHRASE_TYPES)
    assert min(supercategories.values()) >= 5  # each supercategory has a real hierarchy
    assert len({c.name for c in PICTOGRAM_CATEGORIES}) == len(PICTOGRAM_CATEGORIES)
    assert len({c.codepoint for c in PICTOGRAM_CATEGORIES}) == len(PICTOGRAM_CATEGORIES)
    for c in PICTOGRAM_CATEGORIES:
        assert unicodedata.name(chr(c.codepoint)) == c.glyph_name, c
        assert c.chain[-1] in SUPERCATEGORY_PHRASE_TYPES and len(c.chain) in (2, 3), c
    # Some categories sit under an intermediate concept that is itself a category.
    intermediate = {c.chain[1] for c in PICTOGRAM_CATEGORIES if len(c.chain) == 3}
    assert {'dog.n.01', 'car.n.01', 'bird.n.01'} <= intermediate
    assert intermediate <= set(CONCEPT_NOUNS)
    # A word names one concept only: no homonyms across concepts.
    words = Counter(n.singular for nouns in CONCEPT_NOUNS.values() for n in nouns)
    assert max(words.values()) == 1
    for nouns in CONCEPT_NOUNS.values():
        for noun in nouns:
            for word in noun.singular + noun.plural:
                assert word == word.lower() and word.isascii() and not set(word) & set('[]/ ')


def test_hypernym_chains_and_nouns_match_wordnet():
    """Every chain link is a WordNet hypernym (transitively); every noun is a lemma."""
    try:
        from mmgrounding.text.wordnet import get_wordnet

        wordnet = get_wordnet()
    except (ImportError, LookupError) as error:
        pytest.skip(f'WordNet is not installed (bash tools/setup_wordnet.sh): {error}')
    for category in PICTOGRAM_CATEGORIES:
        for lower, upper in zip(category.chain, category.chain[1:]):
            synset = wordnet.synset(lower)
            assert synset.name() == lower, f'{lower} is spelt {synset.name()} in WordNet'
            closure = set(synset.closure(lambda s: s.hypernyms() + s.instance_hypernyms()))
            assert wordnet.synset(upper) in closure, f'{upper} is no hypernym of {lower}'
    for name, nouns in CONCEPT_NOUNS.items():
        synset = wordnet.synset(name)
        assert synset.name() == name
        lemmas = {lemma.name().lower().replace('_', ' ') for lemma in synset.lemmas()}
        for noun in nouns:
            assert ' '.join(noun.singular) in lemmas, (name, noun, lemmas)


def test_glyph_masks_give_tight_boxes():
    for category in PICTOGRAM_CATEGORIES:
        for w, h in ((9, 8), (23, 17), (56, 40)):
            fill, strokes = object_alpha(category.name, w, h)
            assert fill.shape == (h, w) and (strokes <= fill + 1e-6).all()
            # The silhouette reaches all four sides of its box: the box is tight.
            assert fill[0].max() > 0 and fill[-1].max() > 0
            assert fill[:, 0].max() > 0 and fill[:, -1].max() > 0
            assert fill.mean() > 0.15, category.name  # a silhouette, not an outline


def test_missing_font_is_named(tmp_path, monkeypatch):
    missing = str(tmp_path / 'Symbola.ttf')
    monkeypatch.setenv('MMGROUNDING_SYMBOLA_FONT', missing)
    with pytest.raises(FileNotFoundError, match='Symbola.ttf'):
        build_synthground(str(tmp_path / 'out'), preset='v2', num_images=3)


def test_presets_and_options():
    v1, v2 = resolve_options('v1', 100, {}), resolve_options('v2', 100, {})
    assert v1 == SynthGroundConfig() and v1.is_v1
    assert v2.objects == 'pictograms' and v2.referit_num_images == 20 and not v2.is_v1
    assert v2.context_image_prob >= 0.3 and v2.part_prob > 0
    assert resolve_options('v2', 100, {'part_prob': 0.0, 'max_objects': None}).part_prob == 0.0
    with pytest.raises(ValueError, match='preset'):
        resolve_options('v3', 100, {})
    with pytest.raises(ValueError, match='pictograms'):
        build_synthground('/nonexistent', preset='v1', part_prob=0.5, num_images=3)


# ---------------------------------------------------------------- the files of a v2 build
def test_meta_records_the_taxonomy_and_counts(root):
    meta = load_json(root, 'meta.json')
    assert meta['generator_version'] == '2.0.0' and meta['arguments']['preset'] == 'v2'
    assert meta['categories'] == [c.name for c in PICTOGRAM_CATEGORIES]
    by_name = {p['name']: p for p in meta['pictograms']}
    for c in PICTOGRAM_CATEGORIES:
        assert by_name[c.name]['synset'] == c.synset
        assert by_name[c.name]['hypernym_chain'] == list(c.chain)
        assert by_name[c.name]['codepoint'] == f'U+{c.codepoint:04X}'
    assert meta['counts']['images']['total'] == NUM_IMAGES
    assert meta['referit_image_id_start'] == 2000001
    # VG objects carry the category's synset.
    synsets = {c.name: c.synset for c in PICTOGRAM_CATEGORIES}
    for entry in load_json(root, 'vg', 'objects.json'):
        for o in entry['objects']:
            assert o['synsets'] == [synsets[o['names'][0]]]


def test_image_content_does_not_depend_on_build_size(root, tmp_path):
    small = str(tmp_path / 'small')
    build_synthground(small, preset='v2', seed=0, num_images=4, referit_num_images=2)
    for image_id in (1000001, 1000004, 2000001, 2000002):
        folder = 'images' if image_id < 2000001 else 'referit/images'
        assert sha1(osp.join(small, folder, f'{image_id}.jpg')) == sha1(
            osp.join(root, folder, f'{image_id}.jpg')
        )


def objects_by_image(root, refer_dir='refcoco'):
    """image id -> [dict(ann_id, category, colour, size, box_xywh)] from the written files."""
    instances = load_json(root, *refer_dir.split('/'), 'instances.json')
    names = {c['id']: c['name'] for c in instances['categories']}
    objects = {image['id']: [] for image in instances['images']}
    for ann in instances['annotations']:
        objects[ann['image_id']].append(
            dict(ann_id=ann['id'], category=names[ann['category_id']], box_xywh=ann['bbox'])
        )
    return objects


def looks(root):
    """VG object id -> (colour, size)."""
    return {
        o['object_id']: tuple(o['attributes'])
        for entry in load_json(root, 'vg', 'attributes.json')
        for o in entry['attributes']
    }


CHAINS = {c.name: c.chain for c in PICTOGRAM_CATEGORIES}
# Noun words (joined) -> synset; singular and plural.
NOUN_WORDS = {
    ' '.join(words): synset
    for synset, nouns in CONCEPT_NOUNS.items()
    for noun in nouns
    for words in (noun.singular, noun.plural)
}
MAX_NOUN_WORDS = max(len(k.split()) for k in NOUN_WORDS)


def join_nouns(tokens):
    """Tokens with every (multi-word) noun as one token, longest match first."""
    out, k = [], 0
    while k < len(tokens):
        for n in range(MAX_NOUN_WORDS, 0, -1):
            if ' '.join(tokens[k : k + n]) in NOUN_WORDS:
                out.append(' '.join(tokens[k : k + n]))
                k += n
                break
        else:
            out.append(tokens[k])
            k += 1
    return out


def select(objects, words):
    """Objects every word is true of: colour and size equal, a noun's synset in the chain."""
    found = list(range(len(objects)))
    for word in words:
        if word in ('small', 'large'):
            found = [i for i in found if objects[i]['size'] == word]
        elif word in COLOURS:
            found = [i for i in found if objects[i]['colour'] == word]
        elif word in NOUN_WORDS:
            found = [i for i in found if NOUN_WORDS[word] in CHAINS[objects[i]['category']]]
        else:
            assert word in ('the', 'object', 'objects', 'one', 'two'), word
    return found


def centre(box_xywh):
    x, y, w, h = box_xywh
    return x + w / 2, y + h / 2


def extreme(objects, i, members, direction, margin):
    axis = 0 if direction in ('left', 'right') else 1
    sign = -1 if direction in ('left', 'top') else 1
    value = sign * centre(objects[i]['box_xywh'])[axis]
    return all(
        value - sign * centre(objects[m]['box_xywh'])[axis] >= margin for m in members if m != i
    )


def resolve(tokens, objects, *, min_sep):
    """Objects a referring expression can mean, read from its words alone."""
    words = join_nouns(list(tokens))
    for k, word in enumerate(words):
        predicate = None
        if word in ('left', 'right') and words[k + 1 : k + 2] == ['of'] and 'two' not in words:
            predicate, start, end = f'{word} of', k, k + 2
            if k >= 2 and words[k - 2 : k] == ['to', 'the']:
                start = k - 2
        elif word in ('above', 'over', 'below', 'under'):
            predicate = 'above' if word in ('above', 'over') else 'below'
            start, end = k, k + 1
        if predicate is None:
            continue
        landmarks = select(objects, words[end:])
        assert len(landmarks) == 1, f'ambiguous landmark in {tokens}'
        axis = 0 if predicate in ('left of', 'right of') else 1
        sign = -1 if predicate in ('left of', 'above') else 1
        value = sign * centre(objects[landmarks[0]]['box_xywh'])[axis]
        found = [
            i
            for i in select(objects, words[:start])
            if i != landmarks[0] and sign * centre(objects[i]['box_xywh'])[axis] > value
        ]
        for i in found:  # the relation itself holds with the margin
            (sx, sy), (ox, oy) = (
                centre(objects[i]['box_xywh']),
                centre(objects[landmarks[0]]['box_xywh']),
            )
            along, across = (sx - ox, sy - oy) if axis == 0 else (sy - oy, sx - ox)
            assert sign * along >= min_sep and abs(along) > abs(across), tokens
        return found
    if 'two' in words:  # "the lower of the two green dogs"
        k = words.index('of')
        direction = {'upper': 'top', 'lower': 'bottom', 'left': 'left', 'right': 'right'}[words[1]]
        members = select(objects, words[k + 3 :])
        assert len(members) == 2, tokens
        return [i for i in members if extreme(objects, i, members, direction, min_sep)]
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
    members = select(objects, [w for w in words if w not in spatial and w not in ('on', 'at')])
    return [i for i in members if all(extreme(objects, i, members, d, min_sep) for d in directions)]


def referit_looks(root):
    """ReferIt ann id -> (colour, size): its images are not in the VG files, so the looks come
    from the generator (categories and boxes still come from the files)."""
    config = resolve_options('v2', NUM_IMAGES, {'referit_num_images': NUM_REFERIT})
    result = {}
    for k in range(NUM_REFERIT):
        record = generate_image_record(1_000_000 + k, seed=0, split='test', config=config)
        for i, o in enumerate(record.scene.objects):
            result[record.ann_id(i)] = (o.colour, o.size)
    return result


@pytest.mark.parametrize(
    'refer_dir, refs_name', [('refcoco', 'refs(unc).p'), ('referit/refclef', 'refs(berkeley).p')]
)
def test_every_referring_expression_singles_out_its_object(root, refer_dir, refs_name):
    objects = objects_by_image(root, refer_dir)
    attributes = looks(root) if refer_dir == 'refcoco' else referit_looks(root)
    instances = load_json(root, *refer_dir.split('/'), 'instances.json')
    sizes = {i['id']: (i['width'], i['height']) for i in instances['images']}
    for objs in objects.values():
        for o in objs:
            o['colour'], o['size'] = attributes[o['ann_id']]
    refs = load_pickle(root, *refer_dir.split('/'), refs_name)
    splits = {'refcoco': {'train', 'val', 'testA', 'testB'}, 'referit/refclef': set(SPLITS)}
    assert refs and {r['split'] for r in refs} <= splits[refer_dir]
    kinds = Counter()
    for ref in refs:
        objs = objects[ref['image_id']]
        target = [o['ann_id'] for o in objs].index(ref['ann_id'])
        min_sep = 0.08 * min(sizes[ref['image_id']])
        for sentence in ref['sentences']:
            assert resolve(sentence['tokens'], objs, min_sep=min_sep) == [target], sentence
            nouns = [NOUN_WORDS[w] for w in join_nouns(sentence['tokens']) if w in NOUN_WORDS]
            if nouns:
                own = nouns[0] == CHAINS[objs[target]['category']][0]
                kinds['own' if own else 'hypernym'] += 1
            kinds['relation'] += any(
                w in sentence['tokens'] for w in ('above', 'over', 'below', 'under', 'of')
            )
    # People name objects by their category and by its hypernyms; relations tell some apart.
    assert kinds['own'] > 0 and kinds['hypernym'] > 0 and kinds['relation'] > 0


def test_caption_groups_name_every_object_of_their_concept(root):
    """ "two dogs" has a box for every dog, poodles included (Flickr30k files + instances)."""
    objects = objects_by_image(root)
    attributes = looks(root)
    boxes_by_ann = {}
    for objs in objects.values():
        for o in objs:
            o['colour'], o['size'] = attributes[o['ann_id']]
            x, y, w, h = o['box_xywh']
            boxes_by_ann[(int(x) + 1, int(y) + 1, int(x + w), int(y + h))] = o
    checked = levels = 0
    for image_id, objs in objects.items():
        xml = open(osp.join(root, 'flickr30k_entities', 'Annotations', f'{image_id}.xml')).read()
        entity_boxes = Counter()
        for block in xml.split('<object>')[1:]:
            if '<bndbox>' in block:
                for name in block.split('<name>')[1:]:
                    entity_boxes[name.split('<')[0]] += 1
        with open(osp.join(root, 'flickr30k_entities', 'Sentences', f'{image_id}.txt')) as f:
            for line in f:
                for chunk in line.split('[/EN#')[1:]:
                    head, _, rest = chunk.partition(' ')
                    entity_id, words = head.split('/')[0], rest.split(']')[0].lower().split()
                    if words[0] in NUMBER_WORDS:
                        members = select(objs, join_nouns(words[1:]))
                        assert len(members) == NUMBER_WORDS[words[0]] == entity_boxes[entity_id]
                        checked += 1
                    nouns = [w for w in join_nouns(words) if w in NOUN_WORDS]
                    levels += any(NOUN_WORDS[n] in SUPERCATEGORY_PHRASE_TYPES for n in nouns)
    assert checked > 0 and levels > 0


def test_context_dependent_share_and_flags(root):
    context = load_json(root, 'v2', 'context.json')
    objects = objects_by_image(root)
    refs = load_pickle(root, 'refcoco', 'refs(unc).p')
    expected = []
    for ref in refs:
        objs = objects[ref['image_id']]
        category = next(o['category'] for o in objs if o['ann_id'] == ref['ann_id'])
        if sum(o['category'] == category for o in objs) >= 2:
            expected.append(ref['ref_id'])
    assert context['refcoco_ref_ids'] == expected and expected
    counts = load_json(root, 'meta.json')['counts']['v2']
    assert sum(
        c.get('context_refs', 0) for k, c in counts.items() if k.startswith('refcoco')
    ) == len(expected)
    keys = context['referit_region_keys']
    assert keys and all(k.startswith('2') for k in keys)
    assert set(keys) <= set(load_json(root, 'referit', 'berkeley', 'referit_bbox.json'))


def test_context_share_follows_its_knob():
    """The share of context-dependent refs grows with context_image_prob (0 -> none)."""

    def share(prob):
        config = resolve_options('v2', 60, {'context_image_prob': prob})
        flags = []
        for index in range(60):
            scene = generate_image_record(index, seed=1, split='test', config=config).scene
            cats = Counter(o.category for o in scene.objects)
            flags += [cats[o.category] > 1 for o in scene.objects]
        return np.mean(flags)

    assert share(0.0) == 0.0
    assert 0.3 <= share(0.5) < share(1.0)


def test_parts_are_painted_inside_large_objects(root):
    parts = load_json(root, 'v2', 'parts.json')
    meta = load_json(root, 'meta.json')
    large = sum(c.get('large_objects', 0) for c in meta['counts']['v2'].values())
    assert 0 < len(parts) < large
    config = resolve_options('v2', NUM_IMAGES, {})
    checked = 0
    for part in parts:
        index = part['image_id'] - 1000001
        if index >= NUM_IMAGES:
            index = 1_000_000 + part['image_id'] - 2000001
        record = generate_image_record(index, seed=0, split='train', config=config)
        ann_ids = [record.ann_id(i) for i in range(len(record.scene.objects))]
        k = ann_ids.index(part['ann_id'])
        obj = record.scene.objects[k]
        assert obj.size == 'large' and obj.category == part['category']
        x, y, w, h = part['box_xywh']
        px, py, pw, ph = part['part_box_xywh']
        assert x <= px and y <= py and px + pw <= x + w and py + ph <= y + h and pw * ph < w * h
        later = [o.box_xyxy for o in record.scene.objects[k + 1 :]]
        if any(
            bx1 < px + pw and px < bx2 and by1 < py + ph and py < by2
            for bx1, by1, bx2, by2 in later
        ):
            continue  # partly covered by a later object
        # Where the silhouette is solid, the part's pixels carry the part colour (before JPEG).
        fill, strokes = object_alpha(obj.category, w, h)
        solid = (fill > 0.99) & (strokes < 0.01)
        solid = solid[py - y : py - y + ph, px - x : px - x + pw]
        image = np.asarray(render_scene(record.scene), dtype=np.float32)
        pixels = image[py : py + ph, px : px + pw][solid]
        colour = np.asarray(part['part_colour'], dtype=np.float32)
        assert len(pixels) and (np.abs(pixels - colour).max(-1) < 2).mean() > 0.9, part
        assert part['part_colour'] in [list(c) for c in PART_COLOURS.values()]
        checked += 1
    assert checked > 0


# -------------------------------------------------------------- the project's own loaders
def test_every_loader_reads_the_v2_build(root):
    data_root = root + '/'
    flickr = Flickr30kEntitiesDataset(
        data_root=data_root,
        ann_file='flickr30k_entities/train.txt',
        data_prefix=dict(
            img='images/',
            annotations='flickr30k_entities/Annotations/',
            sentences='flickr30k_entities/Sentences/',
        ),
        pipeline=[],
        missing_images='raise',
    )
    assert len(flickr) > 0
    types = {t for item in flickr for p in item['phrases'] for t in p['types']}
    assert types <= set(SUPERCATEGORY_PHRASE_TYPES.values()) and len(types) >= 3
    refcoco = RefCOCODataset(
        data_root=data_root,
        ann_file='refcoco/instances.json',
        refs_file='refcoco/refs(unc).p',
        split='train',
        data_prefix=dict(img='images/'),
        pipeline=[],
        missing_images='raise',
    )
    assert len(refcoco) > 0
    refclef = ReferItGameDataset(
        data_root=data_root,
        ann_file='referit/refclef/instances.json',
        refs_file='referit/refclef/refs(berkeley).p',
        split='test',
        data_prefix=dict(img='referit/images/'),
        pipeline=[],
        missing_images='raise',
    )
    berkeley = ReferItBerkeleyDataset(
        data_root=data_root,
        ann_file='referit/berkeley/referit_query_test.json',
        bbox_file='referit/berkeley/referit_bbox.json',
        imsize_file='referit/berkeley/referit_imsize.json',
        data_prefix=dict(img='referit/images/'),
        pipeline=[],
        missing_images='raise',
    )
    assert len(refclef) == len(berkeley) > 0 and berkeley.skip_counts == {}

    def queries_and_boxes(dataset):
        return sorted(
            (str(item['img_id']), item['caption'], item['phrases'][0]['boxes_xyxy'][0])
            for item in dataset
        )

    assert queries_and_boxes(refclef) == queries_and_boxes(berkeley)
    # Its own images: none is a RefCOCO / Flickr30k image.
    referit_images = {str(item['img_id']) for item in berkeley}
    assert all(int(i) >= 2000001 for i in referit_images)
    trainval = load_json(root, 'referit', 'berkeley', 'referit_query_trainval.json')
    test = load_json(root, 'referit', 'berkeley', 'referit_query_test.json')
    assert trainval and not set(trainval) & set(test)
    vg = VisualGenomeTripletDataset(data_root=data_root, ann_file='vg/', pipeline=[])
    assert vg.counts['triplets_objects'] > 0 and len(vg) > 0


def test_command_line_builds_the_preset(tmp_path, capsys):
    from tools.dataset_converters.make_synthground import main

    out = str(tmp_path / 'cli')
    main(
        [
            '--out',
            out,
            '--preset',
            'v2',
            '--num-images',
            '4',
            '--referit-num-images',
            '3',
            '--part-prob',
            '0',
        ]
    )
    printed = capsys.readouterr().out
    assert 'SynthGround v2 seed=0: 4 images' in printed and 'refcoco_train' in printed
    arguments = load_json(out, 'meta.json')['arguments']
    assert arguments['preset'] == 'v2' and arguments['part_prob'] == 0.0
    assert arguments['referit_num_images'] == 3 and load_json(out, 'v2', 'parts.json') == []


def test_configs_name_the_builds_categories(root):
    """The class lists of the SynthGround configs are the build's categories, in order: the
    detector (whose COCO files and cache take its order) and CAM-WSVG's classifier on the
    default build (v2), the v1 detector config on a v1 build."""
    from mmengine.config import Config

    from mmgrounding.datasets.synthground import CATEGORIES

    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    categories = load_json(root, 'meta.json')['categories']

    def config(name):
        return Config.fromfile(osp.join(repo, 'configs', name))

    detector = config('detectors/faster-rcnn_r18-c32_fpn_1xb8-10e_synthground-vg.py')
    assert list(detector.metainfo.classes) == categories
    assert detector.model.roi_head.bbox_head.num_classes == len(categories)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert list(detector[loader].dataset.metainfo.classes) == categories
    classifier = config('camwsvg/cam-classifier_r18_1xb32-20e_synthground.py')
    assert classifier.class_names == categories and classifier.model.num_classes == 60
    grounder = config('camwsvg/camwsvg_r18-tiny_1xb16-1500it_synthground.py').model.classifier
    assert grounder.class_names == categories and grounder.num_classes == len(categories)
    v1 = config('detectors/faster-rcnn_r18-c32_fpn_1xb8-10e_synthground-v1-vg.py')
    assert v1.model.roi_head.bbox_head.num_classes == len(CATEGORIES) == 9
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert list(v1[loader].dataset.metainfo.classes) == list(CATEGORIES)


def test_rebuilding_another_build_removes_what_was_derived_from_the_old_one(tmp_path):
    """A vocabulary or region cache of a v1 build must not survive its rebuild as v2; a
    rebuild of the same build keeps them (its files are the same bytes)."""
    from mmgrounding.datasets.synthground.builder import DERIVED_OUTPUTS

    out = tmp_path / 'sg'
    build_synthground(str(out), preset='v1', seed=0, num_images=3)

    def derive():
        (out / 'vocab.txt').write_text('[PAD]\n')
        (out / 'regions' / 'det').mkdir(parents=True, exist_ok=True)
        (out / 'regions' / 'det' / 'meta.json').write_text('{}')

    derive()
    build_synthground(str(out), preset='v1', seed=0, num_images=3)  # the same build
    assert (out / 'vocab.txt').is_file() and (out / 'regions' / 'det' / 'meta.json').is_file()
    build_synthground(str(out), seed=0, num_images=3, referit_num_images=1)  # v2
    assert not (out / 'vocab.txt').exists() and not (out / 'regions').exists()
    assert {'vocab.txt', 'regions', 'detection', 'camwsvg'} <= set(DERIVED_OUTPUTS)
    derive()
    build_synthground(str(out), seed=1, num_images=3, referit_num_images=1)  # another seed
    assert not (out / 'vocab.txt').exists() and not (out / 'regions').exists()
