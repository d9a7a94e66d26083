"""tools/train_cam_classifier.py: the image labels (caption nouns or the Visual Genome objects)
and one short training that writes the weights the CAM-WSVG configs load."""

import json
import os.path as osp
import sys

import torch
from mmengine.config import Config

from mmgrounding.registry import DATASETS
from mmgrounding.text.noun_classes import NounClassMapper
from tests.tool_loader import load_tool as load_tool_file

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs/camwsvg/cam-classifier_r18_1xb32-20e_synthground.py')


def load_tool():
    return load_tool_file('tools/train_cam_classifier.py')


def train_dataset(tool, root: str):
    cfg = tool.retarget_synthground(Config.fromfile(CONFIG), root)
    return cfg, DATASETS.build(dict(cfg.train_dataloader.dataset, pipeline=[]))


def test_object_labels_are_every_object_category(synthground_root):
    tool = load_tool()
    cfg, dataset = train_dataset(tool, synthground_root)
    mapper = NounClassMapper(cfg.class_names, match=cfg.class_match)
    _, img_ids, caption_labels = tool.image_labels(dataset, mapper)
    labels = tool.object_labels(synthground_root, img_ids, list(cfg.class_names))
    with open(osp.join(synthground_root, 'vg', 'attributes.json')) as f:
        objects = {str(i['image_id']): i['attributes'] for i in json.load(f)}
    for row, img in enumerate(img_ids):
        expected = {o['names'][0] for o in objects[str(img)]}
        assert {cfg.class_names[c] for c in labels[row].nonzero().flatten().tolist()} == expected
    # the captions name many objects by a hypernym ("the animal"), which labels no class; and
    # a poodle called "the dog" labels the class dog: the two label sets differ both ways
    assert caption_labels.sum() < labels.sum()
    assert bool((caption_labels > labels).any())


def test_one_epoch_writes_the_weights(synthground_root, tmp_path, monkeypatch, capsys):
    tool = load_tool()
    config = tmp_path / 'cfg.py'
    config.write_text(
        f"_base_ = ['{CONFIG}']\nclassifier_train = dict(label_source='objects')\n"
    )
    out = tmp_path / 'cls.pth'
    monkeypatch.setattr(sys, 'argv', [
        'train_cam_classifier.py', str(config), '--out', str(out), '--epochs', '1',
        '--synthground-root', synthground_root])
    tool.main()
    checkpoint = torch.load(out, map_location='cpu', weights_only=True)
    assert checkpoint['meta']['label_source'] == 'objects' and checkpoint['meta']['epochs'] == 1
    assert 'backbone.conv1.weight' in checkpoint['state_dict']
    assert 'Grad-CAM (backbone.layer4)' in capsys.readouterr().out
