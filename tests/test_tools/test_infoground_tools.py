"""tools/train_text_mlm.py, tools/generate_negatives.py and tools/cache_word_features.py end
to end on SynthGround."""

import importlib.util
import json
import os.path as osp
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from mmgrounding.text.negatives import read_negatives

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tiny_mlm(synthground_root, tmp_path_factory):
    """A masked LM trained for 5 steps: a WordPiece vocabulary is trained first (the 40-image
    build has none; a copy without the vocab.txt that other tests may have written into the
    shared build), model and tokenizer saved with save_pretrained."""
    out = str(tmp_path_factory.mktemp('mlm') / 'mlm')
    data_root = str(tmp_path_factory.mktemp('mlm_data') / 'synthground') + '/'
    shutil.copytree(synthground_root, data_root, ignore=shutil.ignore_patterns('vocab.txt'))
    load_tool('train_text_mlm').main(
        [
            '--data-root',
            data_root,
            '--out',
            out,
            '--steps',
            '5',
            '--batch-size',
            '8',
            '--hidden-size',
            '16',
            '--layers',
            '1',
            '--heads',
            '2',
            '--log-every',
            '5',
        ]
    )
    return out


def test_train_text_mlm(tiny_mlm):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    log = json.loads(open(osp.join(tiny_mlm, 'train_log.json')).read())
    assert log['steps'] == 5 and log['train_captions'] > 0
    assert log['vocab'].startswith('trained on')
    assert 0 < log['val']['masked_tokens'] and 0 <= log['val']['accuracy'] <= 1
    model = AutoModelForMaskedLM.from_pretrained(tiny_mlm)
    tokenizer = AutoTokenizer.from_pretrained(tiny_mlm)
    assert model.config.hidden_size == 16 and model.config.vocab_size == len(tokenizer)
    assert 'dog' in tokenizer.get_vocab()  # a category noun of the build


def generate(tiny_mlm, captions, out, *extra):
    load_tool('generate_negatives').main(
        [
            tiny_mlm,
            '--captions',
            captions,
            '--out',
            out,
            '--num-plausible',
            '6',
            '--num-negatives',
            '4',
            '--save-every',
            '2',
            *extra,
        ]
    )
    with open(out) as f:
        return f.read()


def test_generate_negatives_resumes_to_the_same_file(tiny_mlm, synthground_root, tmp_path):
    captions = osp.join(synthground_root, 'coco', 'annotations', 'captions_val.json')
    num_captions = len(json.load(open(captions))['annotations'])
    whole = generate(tiny_mlm, captions, str(tmp_path / 'whole.json'))
    # 3 captions, then the rest: the same bytes as one run (deterministic and resumable)
    generate(tiny_mlm, captions, str(tmp_path / 'resumed.json'), '--limit', '3')
    assert len(read_negatives(str(tmp_path / 'resumed.json'))) == 3
    assert generate(tiny_mlm, captions, str(tmp_path / 'resumed.json')) == whole

    cache = json.loads(whole)
    assert cache['counts']['captions'] == num_captions
    assert cache['settings']['mode'] == 'reranked' and cache['settings']['mlm_sha256']
    entries = read_negatives(str(tmp_path / 'whole.json'))
    lists = 0
    for entry in entries.values():
        for position, negatives in entry['negatives'].items():
            assert 0 < len(negatives) <= 4
            assert entry['words'][position] not in negatives
            assert set(negatives) <= set(cache['candidates'])
            lists += 1
    assert lists == cache['counts']['nouns'] > 0

    # the same LM in a renamed folder resumes (its weights hash decides): nothing to add
    renamed = str(tmp_path / 'renamed_mlm')
    shutil.copytree(tiny_mlm, renamed)
    assert generate(renamed, captions, str(tmp_path / 'whole.json')) == whole

    # other settings in the same file are refused, naming the difference
    with pytest.raises(SystemExit, match='num_negatives'):
        load_tool('generate_negatives').main(
            [
                tiny_mlm,
                '--captions',
                captions,
                '--out',
                str(tmp_path / 'whole.json'),
                '--num-plausible',
                '6',
                '--num-negatives',
                '5',
            ]
        )


def test_generate_random_negatives_from_the_command_line(tiny_mlm, synthground_root, tmp_path):
    captions = osp.join(synthground_root, 'coco', 'annotations', 'captions_val.json')
    out = tmp_path / 'random.json'
    result = subprocess.run(
        [
            sys.executable,
            osp.join(REPO, 'tools', 'generate_negatives.py'),
            tiny_mlm,
            '--captions',
            captions,
            '--out',
            str(out),
            '--mode',
            'random',
            '--num-negatives',
            '3',
            '--seed',
            '1',
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert 'captions done in this run' in result.stdout
    cache = json.loads(out.read_text())
    assert cache['settings']['mode'] == 'random' and cache['settings']['mlm_sha256'] is None
    assert cache['counts']['nouns'] == cache['counts']['nouns_with_all_negatives'] > 0


def test_generate_random_caption_negatives(tiny_mlm, synthground_root, tmp_path):
    """Table 2's random row: each substitute is a noun of a caption of another image."""
    from mmgrounding.text import word_tokenize
    from mmgrounding.text.negatives import noun_positions

    captions = osp.join(synthground_root, 'coco', 'annotations', 'captions_val.json')
    out = str(tmp_path / 'random_captions.json')
    generate(tiny_mlm, captions, out, '--mode', 'random_captions', '--seed', '2')
    cache = json.loads(open(out).read())
    assert cache['settings']['mode'] == 'random_captions' and cache['settings']['seed'] == 2
    nouns_by_image: dict = {}
    for a in json.load(open(captions))['annotations']:
        words = word_tokenize(a['caption'])
        nouns_by_image.setdefault(a['image_id'], set()).update(
            words[p] for p in noun_positions(words)
        )
    checked = 0
    for entry in read_negatives(out).values():
        other_nouns = set().union(*(v for k, v in nouns_by_image.items() if k != entry['image_id']))
        for index, subs in entry['negatives'].items():
            assert len(subs) == 4 and entry['words'][index] not in subs
            assert set(subs) <= other_nouns
            checked += 1
    assert checked > 0
    # the same seed gives the same file
    assert (
        generate(
            tiny_mlm,
            captions,
            str(tmp_path / 'again.json'),
            '--mode',
            'random_captions',
            '--seed',
            '2',
        )
        == open(out).read()
    )


# ---------------------------------------------------------------------- word-feature cache
@pytest.fixture(scope='module')
def train_negatives(tiny_mlm, synthground_root, tmp_path_factory):
    """Random negatives (no LM run) of the training captions, 4 per noun."""
    captions = osp.join(synthground_root, 'coco', 'annotations', 'captions_train.json')
    out = str(tmp_path_factory.mktemp('negatives') / 'negatives_random_train.json')
    generate(tiny_mlm, captions, out, '--mode', 'random')
    return out


@pytest.fixture(scope='module')
def infoground_config(tiny_mlm, synthground_root, tmp_path_factory):
    """A tiny InfoGround config: the tiny MLM as the frozen encoder, SynthGround's training
    captions; max_text_length 12 cuts the longer captions (and some of their nouns) off."""
    path = tmp_path_factory.mktemp('config') / 'infoground_tiny.py'
    path.write_text(
        "default_scope = 'mmgrounding'\n"
        f'mlm = {tiny_mlm!r}\n'
        "model = dict(type='InfoGroundGrounder',\n"
        "             text_encoder=dict(type='BertTextEncoder', pretrained=mlm, num_layers=1),\n"
        '             tokenizer=dict(name_or_path=mlm),\n'
        "             attention=dict(type='WordRegionAttention', region_dim=6, word_dim=16,\n"
        '                            embed_dim=8),\n'
        '             max_text_length=12)\n'
        "train_dataloader = dict(dataset=dict(type='CocoCaptionsDataset',\n"
        f'    data_root={synthground_root!r},\n'
        "    ann_file='coco/annotations/captions_train.json',\n"
        "    pipeline=[dict(type='LoadWordFeatures', cache_dir='nowhere'),\n"
        "              dict(type='PackGroundingInputs')]))\n"
    )
    return str(path)


def cache_words(config, out, *extra):
    return load_tool('cache_word_features').main([config, '--out', out, *extra])


def test_cache_word_features_resumes_to_the_same_cache(
    infoground_config, train_negatives, synthground_root, tmp_path, capsys
):
    from mmengine.config import Config

    from mmgrounding.datasets.word_feature_cache import WordFeatureCache, WordFeatureCacheError
    from mmgrounding.models.grounders.word_batch import first_tokens, word_spans
    from mmgrounding.registry import MODELS

    captions = json.load(
        open(osp.join(synthground_root, 'coco', 'annotations', 'captions_train.json'))
    )['annotations']
    common = ('--negatives', train_negatives, '--dtype', 'float32')
    whole = str(tmp_path / 'whole')
    summary = cache_words(infoground_config, whole, *common, '--batch-size', '64')
    assert summary['written'] == summary['cached'] == len(captions)
    assert 'captions/s' in capsys.readouterr().out

    # stopped after 5 captions, a write killed outright, then resumed: the same cache
    resumed = str(tmp_path / 'resumed')
    assert (
        cache_words(infoground_config, resumed, *common, '--batch-size', '3', '--limit', '5')[
            'written'
        ]
        == 5
    )
    with open(osp.join(resumed, 'captions', '.tmp-6.npz.x1'), 'wb') as f:
        f.write(b'half an entry')
    summary = cache_words(
        infoground_config, resumed, *common, '--batch-size', '16', '--save-every', '100'
    )
    assert summary['written'] == len(captions) - 5 and summary['cached'] == len(captions)
    assert 'removed 1 unfinished entries' in capsys.readouterr().out
    whole_cache, resumed_cache = WordFeatureCache(whole), WordFeatureCache(resumed)
    assert whole_cache.caption_ids() == resumed_cache.caption_ids()
    assert whole_cache.meta == resumed_cache.meta
    assert whole_cache.meta['num_captions'] == len(captions) and resumed_cache.verify() == []

    # the entries are what the grounder computes online from the same captions and negatives
    cfg = Config.fromfile(infoground_config)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()
    negatives = read_negatives(train_negatives)
    sample = captions[::10]
    online = model.caption_word_features(
        [a['caption'] for a in sample],
        [{i: s for i, s in negatives[a['id']]['negatives'].items() if s} for a in sample],
        device=torch.device('cpu'),
    )
    truncated = 0
    for annotation, expected in zip(sample, online):
        a = whole_cache.read(annotation['id'], caption=annotation['caption'])
        b = resumed_cache.read(annotation['id'], caption=annotation['caption'])
        for entry in (a, b):
            for key in ('token_offsets', 'negative_words', 'negative_counts'):
                assert entry[key].tolist() == expected[key].tolist(), key
            assert entry['negative_substitutes'].tolist() == expected['negative_substitutes']
            for key in ('token_feats', 'negative_feats'):
                np.testing.assert_allclose(entry[key], expected[key].numpy(), atol=1e-5)
        # every noun with substitutes is kept unless the 12 tokens cut it off
        nouns = [i for i, s in negatives[annotation['id']]['negatives'].items() if s]
        offsets = torch.as_tensor(a['token_offsets'])
        visible = [
            i
            for i, t in zip(
                nouns, first_tokens(offsets, word_spans(annotation['caption'], nouns)).tolist()
            )
            if t >= 0
        ]
        assert a['negative_words'].tolist() == visible
        truncated += len(nouns) - len(visible)
    assert truncated > 0 and len(a['token_offsets']) <= 12

    # other settings are refused, naming the differences
    with pytest.raises(WordFeatureCacheError, match=r"features\.dtype: 'float32' vs 'float16'"):
        cache_words(infoground_config, whole, '--negatives', train_negatives)
    with pytest.raises(WordFeatureCacheError, match=r'negatives: \{.*\} vs None'):
        cache_words(infoground_config, whole, '--dtype', 'float32')


def test_cache_word_features_names_missing_negatives(infoground_config, train_negatives, tmp_path):
    cache = json.load(open(train_negatives))
    first = sorted(cache['captions'], key=int)[0]
    del cache['captions'][first]
    partial = tmp_path / 'partial.json'
    partial.write_text(json.dumps(cache))
    with pytest.raises(
        SystemExit,
        match=f'partial.json: no negatives for caption {first} '
        r'\(the generation may be incomplete',
    ):
        cache_words(
            infoground_config, str(tmp_path / 'words'), '--negatives', str(partial), '--limit', '3'
        )


def test_cache_word_features_reads_another_build(
    infoground_config, tiny_mlm, train_negatives, synthground_root, tmp_path
):
    """--synthground-root: a recipe's paths under data/synthground/ (captions, masked LM) read
    the build in that folder, as `make leaderboard-build1` caches its words."""
    from mmgrounding.datasets.word_feature_cache import WordFeatureCache

    build = str(tmp_path / 'build') + '/'
    shutil.copytree(synthground_root, build)
    shutil.copytree(tiny_mlm, build + 'infoground/mlm')
    recipe = tmp_path / 'recipe.py'
    recipe.write_text(
        open(infoground_config)
        .read()
        .replace(repr(tiny_mlm), repr('data/synthground/infoground/mlm'))
        .replace(repr(synthground_root), repr('data/synthground/'))
    )
    assert 'data/synthground/infoground/mlm' in recipe.read_text()
    common = ('--negatives', train_negatives, '--dtype', 'float32')
    moved = str(tmp_path / 'moved')
    cache_words(str(recipe), moved, *common, '--synthground-root', build)
    direct = str(tmp_path / 'direct')
    cache_words(infoground_config, direct, *common)
    moved_cache, direct_cache = WordFeatureCache(moved), WordFeatureCache(direct)
    # the build's captions, encoded by the build's masked LM
    assert moved_cache.caption_ids() == direct_cache.caption_ids()
    captions = json.load(open(osp.join(build, 'coco', 'annotations', 'captions_train.json')))
    for annotation in captions['annotations'][::25]:
        a = moved_cache.read(annotation['id'], caption=annotation['caption'])
        b = direct_cache.read(annotation['id'], caption=annotation['caption'])
        np.testing.assert_array_equal(a['token_feats'], b['token_feats'])
