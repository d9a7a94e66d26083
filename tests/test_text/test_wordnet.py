import os
import os.path as osp
import subprocess
import sys

import pytest

from mmgrounding.text import (
    hypernym_closure_names,
    lemma_synsets,
    lemmatize_noun,
    lexname,
    match_phrase_to_classes,
    most_frequent_synset,
    wordnet_search_roots,
)

CLASSES = ['person', 'clothing', 'dog', 'car', 'animal']
WORDNET_PY = osp.join(osp.dirname(__file__), '..', '..', 'mmgrounding', 'text', 'wordnet.py')


@pytest.mark.parametrize(
    'phrase, expected',
    [
        # spectator -> perceiver -> person
        ('spectators', (0, 'hypernym')),
        # sweater -> garment -> clothing
        ('sweater', (1, 'hypernym')),
        ('a man in a red sweater', (0, 'hypernym')),  # head "man", not "sweater"
        # puppy -> {dog, pup}: dog is a parent, animal only a far ancestor
        ('puppy', (2, 'hypernym')),
        ('man', (0, 'hypernym')),  # man -> adult -> person
        ('sedan', (3, 'hypernym')),  # sedan -> car
        ('the two small dogs', (2, 'head')),  # head noun "dog" is a class name
        ('someone in red', (0, 'synonym')),  # someone.n.01 = person.n.01
        ('idea', None),  # idea -> content -> cognition -> ... abstraction: no class
        ('the left one', None),  # no noun to map
    ],
)
def test_match_phrase_to_classes(phrase, expected):
    assert match_phrase_to_classes(phrase, CLASSES) == expected


def test_multi_word_class_names():
    classes = ['traffic light', 'light', 'sports_ball', 'bear', 'Teddy_Bear', 't-shirt']
    # A whole match beats the single-word class "light", whatever the order.
    assert match_phrase_to_classes('a red traffic light', classes) == (0, 'head')
    assert match_phrase_to_classes('two lights', classes) == (1, 'head')
    # No whole match: a multi-word class matches on its last word.
    assert match_phrase_to_classes('a soccer ball', classes) == (2, 'head')
    # "teddy bear" is a WordNet collocation (a toy): "bear" alone must not claim it.
    assert match_phrase_to_classes('a teddy bear', classes) == (4, 'head')
    assert match_phrase_to_classes('a teddy bear', ['bear', 'animal']) is None
    assert match_phrase_to_classes('a brown bear', ['bear', 'animal']) == (0, 'head')
    assert match_phrase_to_classes('a blue T-shirt', classes) == (5, 'head')
    # Ties go to the class listed first: "person" and "individual" are lemmas of one synset.
    assert match_phrase_to_classes('someone', ['individual', 'person']) == (0, 'synonym')


def test_synset_helpers():
    assert lemmatize_noun('spectators') == 'spectator'
    assert lemmatize_noun('men') == 'man'
    assert lemmatize_noun('glasses') == 'glasses'  # a WordNet lemma of its own
    assert lemmatize_noun('traffic lights') == 'traffic light'
    assert lemmatize_noun('xyzzy') == 'xyzzy'
    assert [s.name() for s in lemma_synsets('dogs')][:2] == ['dog.n.01', 'frump.n.01']
    assert lemma_synsets('quickly') == []
    assert lemma_synsets('quickly', pos='r')[0].name() == 'quickly.r.01'
    assert most_frequent_synset('sweaters').name() == 'sweater.n.01'
    assert most_frequent_synset('xyzzy') is None
    assert lexname('sweater') == 'noun.artifact'
    assert lexname('puppy') == 'noun.animal'
    assert lexname('spectator') == 'noun.person'
    assert lexname('run', pos='v') == 'verb.motion'
    assert lexname('xyzzy') is None
    names = hypernym_closure_names(most_frequent_synset('puppy'))
    # Parents (sorted by synset name), then grandparents, ..., up to the root.
    assert names[:5] == ['dog', 'domestic dog', 'canis familiaris', 'pup', 'whelp']
    assert names.index('dog') < names.index('animal') and names[-1] == 'entity'
    assert 'puppy' not in names


def _run_wordnet_module(code, env):
    """Run ``code`` against mmgrounding/text/wordnet.py loaded on its own in a new process, so
    that nltk's state (already holding WordNet here) and mmgrounding's imports stay out."""
    prelude = (
        'import importlib.util, nltk\n'
        "nltk.data.path[:] = []  # hide nltk's own data: only our roots remain\n"
        f'spec = importlib.util.spec_from_file_location("wn", {WORDNET_PY!r})\n'
        'wn = importlib.util.module_from_spec(spec); spec.loader.exec_module(wn)\n'
    )
    return subprocess.run(
        [sys.executable, '-c', prelude + code], env=env, capture_output=True, text=True, timeout=120
    )


def _env_without_overrides(**extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ('MMGROUNDING_NLTK_DATA', 'MMGROUNDING_CACHE', 'NLTK_DATA')
    }
    env.update(extra)
    return env


def test_missing_wordnet_names_the_fix(tmp_path):
    result = _run_wordnet_module(
        'try:\n    wn.get_wordnet()\nexcept LookupError as err:\n    print(err)\n',
        _env_without_overrides(MMGROUNDING_CACHE=str(tmp_path)),
    )
    assert result.returncode == 0, result.stderr
    assert str(tmp_path / 'nltk_data') in result.stdout
    assert 'tools/setup_wordnet.sh' in result.stdout and 'make setup' in result.stdout


def test_search_roots(monkeypatch, tmp_path):
    for name in ('MMGROUNDING_NLTK_DATA', 'MMGROUNDING_CACHE', 'XDG_CACHE_HOME'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('HOME', str(tmp_path))
    default = str(tmp_path / '.cache' / 'mmgrounding' / 'nltk_data')
    assert wordnet_search_roots() == [default]
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg'))
    assert wordnet_search_roots() == [str(tmp_path / 'xdg' / 'mmgrounding' / 'nltk_data')]
    monkeypatch.setenv('MMGROUNDING_CACHE', str(tmp_path / 'cache'))
    monkeypatch.setenv('MMGROUNDING_NLTK_DATA', str(tmp_path / 'mine'))
    assert wordnet_search_roots() == [str(tmp_path / 'mine'), str(tmp_path / 'cache' / 'nltk_data')]


def test_default_root_is_found_without_configuration():
    """What `make setup` installs is found with no environment variable and no nltk data."""
    env = _env_without_overrides()
    env.pop('XDG_CACHE_HOME', None)
    root = osp.join(osp.expanduser('~'), '.cache', 'mmgrounding', 'nltk_data')
    if not osp.isdir(osp.join(root, 'corpora', 'wordnet')):
        pytest.skip(f'WordNet was installed elsewhere than the default root {root}')
    result = _run_wordnet_module(
        'wordnet = wn.get_wordnet()\nprint(nltk.data.path, wordnet.synset("dog.n.01").lexname())\n',
        env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f'[{root!r}] noun.animal'


@pytest.mark.parametrize('word, lemma', [
    ('crosses', 'cross'),  # not "crosse" (a lacrosse stick): the more frequent reduction
    ('hearts', 'heart'),  # the card game "hearts" never occurs in the tagged corpora
    ('glasses', 'glasses'),  # a plural-only lemma of its own stays (tagged 4 times)
    ('shorts', 'shorts'),  # untagged, but its singular is rare too (3)
    ('stairs', 'stairs'),
    ('men', 'man'),  # WordNet's exception list
])
def test_lemmatize_noun_prefers_the_reading_captions_mean(word, lemma):
    assert lemmatize_noun(word) == lemma


def test_synthground_shape_plurals_map_to_their_classes():
    shapes = ['circle', 'oval', 'heart', 'square', 'triangle', 'diamond', 'hexagon', 'star',
              'cross']
    assert match_phrase_to_classes('two blue crosses', shapes) == (8, 'head')
    assert match_phrase_to_classes('the purple hearts', shapes) == (2, 'head')
    assert match_phrase_to_classes('two purple shapes', shapes) is None
