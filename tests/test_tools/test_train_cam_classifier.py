"""tools/train_cam_classifier.py: the image labels (caption nouns or the Visual Genome objects),
the object-centred windows, and one short training that writes the weights the CAM-WSVG configs
load."""

import json
import os.path as osp
import sys

import pytest
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


def test_object_windows_by_hand():
    """Windows cut at the input's scale around each object, the border outside the image 0,
    labelled with the objects at least half inside (a window's own object always)."""
    tool = load_tool()
    image = torch.arange(3 * 32 * 32, dtype=torch.float32).view(1, 3, 32, 32) + 1.0
    classes = torch.tensor([2, 5, 1])
    boxes = torch.tensor([[4.0, 4, 12, 12], [10, 10, 30, 30], [0, 0, 4, 4]])
    windows = tool.ObjectWindows(image, [(classes, boxes)], 6, size=16, jitter=0, min_inside=0.5)
    assert len(windows) == 3
    crops, labels = windows.batch([0, 1, 2], train=False)
    assert crops.shape == (3, 3, 16, 16)
    # object 0: centre (8, 8), window [0, 16)^2; object 1 has 36 of its 400 px inside (no
    # label); object 2 is wholly inside
    assert torch.equal(crops[0], image[0, :, 0:16, 0:16])
    assert labels[0].nonzero().flatten().tolist() == [1, 2]
    # object 1: centre (20, 20), window [12, 28)^2; object 0 has no pixel inside
    assert torch.equal(crops[1], image[0, :, 12:28, 12:28])
    assert labels[1].nonzero().flatten().tolist() == [5]
    # object 2: centre (2, 2), window [-6, 10)^2: 6 rows and columns of border (0)
    assert torch.equal(crops[2, :, 6:, 6:], image[0, :, 0:10, 0:10])
    assert crops[2, :, :6].abs().sum() == 0 and crops[2, :, :, :6].abs().sum() == 0
    # object 0 covers 36 of 64 px inside [-6, 10)^2: labelled; object 1 is not
    assert labels[2].nonzero().flatten().tolist() == [1, 2]
    # jitter moves the window, never past `jitter` px
    torch.manual_seed(0)
    moved = tool.ObjectWindows(image, [(classes, boxes)], 6, size=16, jitter=3)
    crops_moved, _ = moved.batch([1] * 8, train=True)
    offsets = {
        (dy, dx)
        for c in crops_moved
        for dy in range(-3, 4)
        for dx in range(-3, 4)
        if torch.equal(c, image[0, :, 12 + dy : 28 + dy, 12 + dx : 28 + dx])
    }
    assert offsets and all(max(abs(dy), abs(dx)) <= 3 for dy, dx in offsets)


def test_top1_counts_the_argmax_in_the_labels():
    tool = load_tool()

    class Fixed(torch.nn.Module):
        def forward(self, x):
            return x

    logits = torch.tensor([[3.0, 0.0, 0.0], [0.0, 0.0, 5.0], [1.0, 2.0, 0.0], [0.0, 0.0, 1.0]])
    labels = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 1, 1], [0, 0, 0]])  # the last: none
    assert tool.evaluate(Fixed(), logits, labels)['top1'] == pytest.approx(100.0 * 2 / 3)


@pytest.mark.parametrize(
    'recipe', ["label_source='objects'", "label_source='object_windows', loss='softmax'"]
)
def test_one_epoch_writes_the_weights(synthground_root, tmp_path, monkeypatch, capsys, recipe):
    tool = load_tool()
    config = tmp_path / 'cfg.py'
    config.write_text(f"_base_ = ['{CONFIG}']\nclassifier_train = dict({recipe})\n")
    out = tmp_path / 'cls.pth'
    monkeypatch.setattr(sys, 'argv', [
        'train_cam_classifier.py', str(config), '--out', str(out), '--epochs', '1',
        '--synthground-root', synthground_root])
    tool.main()
    checkpoint = torch.load(out, map_location='cpu', weights_only=True)
    source = recipe.split("'")[1]
    assert checkpoint['meta']['label_source'] == source and checkpoint['meta']['epochs'] == 1
    assert 'backbone.conv1.weight' in checkpoint['state_dict']
    assert 'Grad-CAM (backbone.layer4)' in capsys.readouterr().out
