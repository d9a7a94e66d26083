"""tools/dataset_converters/vg_to_coco_instances.py: VG objects as COCO instances."""
import importlib.util
import json
import os.path as osp

from pycocotools.coco import COCO

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool():
    path = osp.join(REPO, 'tools', 'dataset_converters', 'vg_to_coco_instances.py')
    spec = importlib.util.spec_from_file_location('vg_to_coco_instances', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_split_file_and_categories(synthground_root, tmp_path):
    vg_dir = osp.join(synthground_root, 'vg')
    split = osp.join(synthground_root, 'flickr30k_entities', 'test.txt')
    out = str(tmp_path / 'instances_test.json')
    counts = load_tool().main([vg_dir, '--out', out, '--image-ids', split])

    with open(split) as f:
        ids = [int(line) for line in f if line.strip()]
    with open(osp.join(vg_dir, 'objects.json')) as f:
        objects = {r['image_id']: r['objects'] for r in json.load(f)}
    coco = COCO(out)  # pycocotools (and so mmdet's CocoDataset) reads it
    assert sorted(coco.getImgIds()) == sorted(ids) and counts['images'] == len(ids)
    names = {c['name'] for c in coco.loadCats(coco.getCatIds())}
    # without a vocabulary: every object name of the build (its categories) is a category
    assert names == {o['names'][0] for objs in objects.values() for o in objs}
    with open(osp.join(synthground_root, 'meta.json')) as f:
        assert names <= set(json.load(f)['categories'])
    expected = sorted((i, o['names'][0], (o['x'], o['y'], o['w'], o['h']))
                      for i in ids for o in objects[i])
    written = sorted((a['image_id'], coco.cats[a['category_id']]['name'], tuple(a['bbox']))
                     for a in coco.dataset['annotations'])
    assert written == expected  # SynthGround boxes lie inside the image: nothing clipped
    assert coco.imgs[ids[0]]['file_name'] == f'images/{ids[0]}.jpg'


def test_vocabulary_with_synonyms_drops_other_names(synthground_root, tmp_path):
    vocab = tmp_path / 'objects_vocab.txt'
    vocab.write_text('dog,poodle\ncar\n')
    coco = load_tool().vg_to_coco(
        osp.join(synthground_root, 'vg'),
        categories=load_tool().read_vocabulary(str(vocab)))
    assert [c['name'] for c in coco['categories']] == ['dog', 'car']
    assert coco['categories'][0]['synonyms'] == ['poodle']
    with open(osp.join(synthground_root, 'vg', 'objects.json')) as f:
        names = [o['names'][0] for r in json.load(f) for o in r['objects']]
    kept = sum(n in ('dog', 'poodle', 'car') for n in names)
    assert 0 < kept < len(names)
    assert len(coco['annotations']) == kept
    assert coco['info']['counts']['unknown_category'] == len(names) - kept
    assert {a['category_id'] for a in coco['annotations']} == {1, 2}


def test_categories_from_the_detector_config_give_mmdet_labels_in_its_class_order(
        synthground_root, tmp_path):
    from mmdet.datasets import CocoDataset
    from mmengine.config import Config
    config = osp.join(REPO, 'configs', 'detectors',
                      'faster-rcnn_r18-c32_fpn_1xb8-10e_synthground-vg.py')
    classes = Config.fromfile(config).metainfo['classes']
    out = str(tmp_path / 'instances.json')
    load_tool().main([osp.join(synthground_root, 'vg'), '--out', out,
                      '--categories-from-config', config])
    dataset = CocoDataset(ann_file=out, data_root=synthground_root, metainfo=dict(classes=classes),
                          data_prefix=dict(img=''), pipeline=[], test_mode=True)
    # mmdet numbers labels in the file's category order: it must be the config's order, or the
    # checkpoint's class names (classes[label]) would name other shapes
    coco = COCO(out)
    for info in dataset.load_data_list()[:20]:
        anns = coco.imgToAnns[info['img_id']]
        assert sorted(classes[i['bbox_label']] for i in info['instances']) == sorted(
            coco.cats[a['category_id']]['name'] for a in anns)
