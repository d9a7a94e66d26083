"""tools/map_phrases_to_classes.py: CKD's phrase -> class mapping and its coverage report."""
import importlib.util
import json
import os.path as osp
import subprocess
import sys

import pytest

from tests.test_models.ckd_tiny import build_categories

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLASSES = ['person', 'clothing', 'dog', 'car', 'animal']


def load_tool():
    path = osp.join(REPO, 'tools', 'map_phrases_to_classes.py')
    spec = importlib.util.spec_from_file_location('map_phrases_to_classes', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_wordnet_cases_and_coverage():
    tool = load_tool()
    phrases = ['spectators', 'sweater', 'a man in a red sweater', 'the two small dogs',
               'someone in red', 'the left one', 'spectators', 'a teddy bear']
    report = tool.phrase_coverage(phrases, CLASSES)
    mapping = report['mapping']
    assert mapping['spectators'] == ['person', 'hypernym']  # spectator -> perceiver -> person
    assert mapping['sweater'] == ['clothing', 'hypernym']  # sweater -> garment -> clothing
    assert mapping['a man in a red sweater'] == ['person', 'hypernym']  # the head is "man"
    assert mapping['the two small dogs'] == ['dog', 'head']
    assert mapping['someone in red'] == ['person', 'synonym']
    assert mapping['the left one'] is None
    # 8 phrases (spectators twice), 6 mapped: head 1, synonym 1, hypernym 4
    assert (report['phrases'], report['mapped'], report['distinct']) == (8, 6, 7)
    assert report['mapped_percent'] == pytest.approx(75.0)
    assert report['by_how'] == dict(head=1, synonym=1, hypernym=4)
    assert report['by_class'] == dict(person=4, clothing=1, dog=1)
    # a teddy bear is a toy, not an animal: its head "bear" stays unmapped
    assert report['top_unmapped_heads'] == [['bear', 1], ['one', 1]]
    text = tool.format_report(report)
    assert text.splitlines()[0].startswith('phrases mapped: 6 / 8 (75.00%)')


def test_class_names_from_a_cache_or_a_list(tmp_path):
    tool = load_tool()
    (tmp_path / 'meta.json').write_text(json.dumps(dict(detector=dict(classes=['a', 'b']))))
    assert tool.load_class_names(cache=str(tmp_path)) == ['a', 'b']
    assert tool.load_class_names(classes='person, dog') == ['person', 'dog']
    (tmp_path / 'classes.txt').write_text('x\n\ny\n')
    assert tool.load_class_names(classes_file=str(tmp_path / 'classes.txt')) == ['x', 'y']


def test_command_line_on_synthground(synthground_root, tmp_path):
    out = tmp_path / 'mapping.json'
    result = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'map_phrases_to_classes.py'),
         osp.join(REPO, 'configs', '_base_', 'datasets', 'synthground_flickr30k.py'),
         '--classes', ','.join(build_categories(synthground_root)),
         '--out', str(out), '--cfg-options',
         f'train_dataloader.dataset.data_root={synthground_root}'],
        capture_output=True, text=True, cwd=REPO, check=True)
    assert 'phrases mapped:' in result.stdout
    report = json.loads(out.read_text())
    assert report['phrases'] > 0 and 0 < report['mapped'] <= report['phrases']
    assert sum(report['by_how'].values()) == report['mapped']
    assert sum(report['by_class'].values()) == report['mapped']
    # most SynthGround phrases name the category itself (the head rule); hypernyms ("the
    # animal") reach no class by CKD's rule, synonyms ("a cab") map through WordNet
    assert report['by_how']['head'] / report['phrases'] > 0.5
