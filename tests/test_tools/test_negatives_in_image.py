"""tools/analysis_tools/negatives_in_image.py: false negatives and synonyms among substitutes."""
import importlib.util
import json
import os.path as osp

import pytest

from mmgrounding.text.negatives import NEGATIVES_FORMAT, read_negatives

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool():
    path = osp.join(ROOT, 'tools', 'analysis_tools', 'negatives_in_image.py')
    spec = importlib.util.spec_from_file_location('negatives_in_image', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(path, obj):
    path.write_text(json.dumps(obj))
    return str(path)


@pytest.fixture
def files(tmp_path):
    cache = dict(format=NEGATIVES_FORMAT, settings=dict(mode='reranked'), candidates=[],
                 captions={
                     '7': dict(image_id=1, words=['two', 'ovals', 'and', 'a', 'dog'],
                               negatives={'1': ['hearts', 'oval', 'stars'],
                                          '4': ['cat', 'puppies']}),
                     '8': dict(image_id=2, words=['a', 'star'], negatives={'1': ['hearts']}),
                 })
    objects = [
        dict(image_id=1, objects=[dict(names=['oval']), dict(names=['heart']),
                                  dict(names=['dog'])]),
        dict(image_id=2, objects=[dict(names=['star'])]),
    ]
    return write(tmp_path / 'neg.json', cache), write(tmp_path / 'objects.json', objects)


def test_counts_and_the_filtered_copy(files, tmp_path, capsys):
    negatives, objects = files
    out = str(tmp_path / 'filtered.json')
    load_tool().main([negatives, '--objects', objects, '--out', out])
    # image 1 has an oval, a heart and a dog: "hearts" is in it, "oval" has the lemma of
    # "ovals"; "puppies" (lemma puppy) is not "dog"; caption 8's image has no heart
    printed = capsys.readouterr().out
    assert '6 substitutes' in printed
    assert 'in image 1 (16.7%), same lemma 1 (16.7%), other 4 (66.7%)' in printed
    filtered = read_negatives(out)
    assert filtered[7]['negatives'] == {1: ['stars'], 4: ['cat', 'puppies']}
    assert filtered[8]['negatives'] == {1: ['hearts']}
    with open(out) as f:
        assert json.load(f)['settings']['oracle_filter']['removed'] == ['in image',
                                                                          'same lemma']


def test_an_image_missing_from_the_objects_is_named(files, tmp_path):
    negatives, _ = files
    objects = write(tmp_path / 'few.json', [dict(image_id=1, objects=[])])
    with pytest.raises(SystemExit, match='caption 8 is of image 2'):
        load_tool().main([negatives, '--objects', objects])
