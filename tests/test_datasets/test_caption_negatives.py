"""LoadCaptionNegatives: the negatives cache of tools/generate_negatives.py in the samples."""
import json

import pytest

from mmgrounding.datasets.transforms import LoadCaptionNegatives, PackGroundingInputs
from mmgrounding.registry import TRANSFORMS
from mmgrounding.text import word_tokenize
from mmgrounding.text.negatives import NEGATIVES_FORMAT

CAPTIONS = {3: 'a red circle left of a square', 7: 'the blue star', 8: 'a big star'}


@pytest.fixture
def negatives_file(tmp_path):
    """A cache as tools/generate_negatives.py writes it: caption 3 has substitutes for words
    2 ("circle") and 6 ("square"), caption 7 none, caption 8 was skipped by the generator."""
    captions = {
        '3': dict(image_id=1, words=word_tokenize(CAPTIONS[3]),
                  negatives={'2': ['square', 'star', 'triangle'], '6': ['circle'], '1': []}),
        '7': dict(image_id=2, words=word_tokenize(CAPTIONS[7]), negatives={}),
        '8': dict(image_id=2, words=word_tokenize(CAPTIONS[8]), negatives={}, skipped=True),
    }
    path = tmp_path / 'negatives.json'
    path.write_text(json.dumps(dict(format=NEGATIVES_FORMAT, settings={}, candidates=[],
                                    captions=captions)))
    return str(path)


def sample(caption_id, caption=None):
    return dict(caption_id=caption_id, caption=caption or CAPTIONS.get(caption_id, 'a star'),
                img_id=1)


def test_negatives_go_into_the_metainfo(negatives_file, tmp_path):
    transform = TRANSFORMS.build(dict(type='LoadCaptionNegatives', negatives_file=negatives_file))
    results = transform(sample(3))
    # word indices are ints; a word with an empty list gets no entry
    assert results['negatives'] == {2: ['square', 'star', 'triangle'], 6: ['circle']}
    assert transform(sample(7))['negatives'] == {} == transform(sample(8))['negatives']
    packed = PackGroundingInputs()(transform(sample(3)))['data_samples']
    assert packed.metainfo['negatives'] == {2: ['square', 'star', 'triangle'], 6: ['circle']}
    # the file is read once per process, on first use
    (tmp_path / 'negatives.json').unlink()
    assert transform(sample(3))['negatives'][6] == ['circle']


def test_max_negatives_keeps_the_best(negatives_file):
    transform = LoadCaptionNegatives(negatives_file, max_negatives=2)
    assert transform(sample(3))['negatives'] == {2: ['square', 'star'], 6: ['circle']}
    with pytest.raises(ValueError, match='max_negatives must be >= 1'):
        LoadCaptionNegatives(negatives_file, max_negatives=0)


def test_words_of_another_caption_are_named(negatives_file):
    transform = LoadCaptionNegatives(negatives_file)
    with pytest.raises(ValueError, match=r"negatives\.json: caption 3 has the words 'a red circle "
                       r"left of a square' in the cache but 'a red circle' in the sample"):
        transform(sample(3, 'a red circle'))


def test_missing_caption_raises(negatives_file):
    transform = LoadCaptionNegatives(negatives_file)
    with pytest.raises(ValueError, match=r'negatives\.json: no negatives for caption 5 \(the '
                       'generation may be incomplete'):
        transform(sample(5))
    with pytest.raises(KeyError, match='group_by_image=False'):
        transform(dict(caption_ids=[3], captions=[CAPTIONS[3]]))
    with pytest.raises(ValueError, match="missing must be 'raise' or 'skip'"):
        LoadCaptionNegatives(negatives_file, missing='ignore')


def test_missing_captions_are_skipped_counted_and_logged_once(negatives_file, log_messages):
    transform = LoadCaptionNegatives(negatives_file, missing='skip')
    assert transform(sample(5))['negatives'] == {}
    assert transform(sample(6))['negatives'] == {}
    assert transform(sample(3))['negatives'][6] == ['circle']
    assert transform.num_missing == 2
    warnings = [m for m in log_messages if 'no negatives for caption' in m]
    assert len(warnings) == 1 and 'caption 5' in warnings[0]


def test_not_a_negatives_cache_is_named(tmp_path):
    path = tmp_path / 'other.json'
    path.write_text(json.dumps(dict(captions={})))
    with pytest.raises(ValueError, match=r'other\.json: not a negatives cache'):
        LoadCaptionNegatives(str(path))(sample(3))
