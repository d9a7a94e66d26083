"""LoadParaphrases: one paraphrase per text from the cache; missing texts counted."""

import json

import numpy as np
import pytest

from mmgrounding.datasets.transforms import LoadParaphrases
from mmgrounding.text.paraphrase import PARAPHRASES_FORMAT, read_paraphrases


@pytest.fixture
def cache(tmp_path):
    path = tmp_path / 'paraphrases.json'
    path.write_text(
        json.dumps(
            dict(
                format=PARAPHRASES_FORMAT,
                settings={},
                paraphrases={
                    'a red circle': ['a crimson circle', 'a red ellipse'],
                    'the dog on the left': ['the domestic dog on the left'],
                    'a blue star': [],
                },
            )
        )
    )
    return str(path)


def test_one_paraphrase_per_text_and_missing_ones_are_counted(cache):
    transform = LoadParaphrases(cache, choice='first')
    assert transform(dict(caption='A  red circle'))['paraphrase'] == 'a crimson circle'
    assert transform(dict(caption='a blue star'))['paraphrase'] is None  # empty list
    assert transform(dict(caption='a green cross'))['paraphrase'] is None  # not in the cache
    assert transform.num_missing == 2 and transform.num_seen == 3
    np.random.seed(0)
    drawn = {LoadParaphrases(cache)(dict(caption='a red circle'))['paraphrase'] for _ in range(20)}
    assert drawn == {'a crimson circle', 'a red ellipse'}


def test_a_flipped_text_gets_the_flipped_paraphrase(cache):
    transform = LoadParaphrases(cache, choice='first')
    out = transform(dict(caption='the dog on the right', flip=True))
    assert out['paraphrase'] == 'the domestic dog on the right'
    assert transform(dict(caption='the dog on the right'))['paraphrase'] is None


def test_bad_files_and_samples_are_named(cache, tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps(dict(format='other')))
    with pytest.raises(ValueError, match='bad.json'):
        read_paraphrases(str(bad))
    with pytest.raises(KeyError, match='caption'):
        LoadParaphrases(cache)(dict(text='a red circle'))
    with pytest.raises(ValueError, match='choice'):
        LoadParaphrases(cache, choice='best')
