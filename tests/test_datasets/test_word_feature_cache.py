"""The word-feature cache: entries round-trip, damage and mismatches are reported by name,
LoadWordFeatures and PackGroundingInputs put the entries into samples."""
import os
import os.path as osp

import numpy as np
import pytest
import torch

from mmgrounding.datasets.transforms import LoadWordFeatures, PackGroundingInputs
from mmgrounding.datasets.word_feature_cache import (
    CACHE_FORMAT,
    WordFeatureCache,
    WordFeatureCacheError,
    pad_substitutes,
    tokenizer_sha256,
    word_cache_settings,
)
from mmgrounding.registry import MODELS, TRANSFORMS
from mmgrounding.utils.atomic import atomic_open
from tests.damage import flip_byte

DIM = 4
SETTINGS = dict(encoder=dict(type='BertTextEncoder', weights_sha256='abc'),
                tokenizer=dict(sha256='def'),
                features=dict(max_text_length=40, dtype='float32', dim=DIM),
                negatives=dict(sha256='123'),
                sources=dict(pretrained=None, negatives_file='negatives.json'))
CAPTIONS = {3: 'a red circle left of a square', 7: 'the blue star'}
# word indices into word_tokenize(caption) and their substitutes
NEGATIVES = {3: {2: ['square', 'star'], 6: ['circle']}, 7: {}}


def make_entry(caption_id: int, *, seed: int = 0) -> dict:
    """An entry of L = words + 2 tokens with random features; substitutes as NEGATIVES."""
    rng = np.random.default_rng(seed + caption_id)
    caption = CAPTIONS[caption_id]
    starts = [0] + [i + 1 for i, c in enumerate(caption) if c == ' ']
    ends = [i for i, c in enumerate(caption) if c == ' '] + [len(caption)]
    offsets = [(0, 0)] + list(zip(starts, ends)) + [(0, 0)]  # [CLS] words [SEP]
    negatives = NEGATIVES[caption_id]
    substitutes = [s for subs in negatives.values() for s in subs]
    return dict(caption=caption, token_offsets=np.array(offsets),
                token_feats=rng.normal(size=(len(offsets), DIM)).astype(np.float32),
                negative_words=list(negatives),
                negative_counts=[len(s) for s in negatives.values()],
                negative_substitutes=substitutes,
                negative_feats=rng.normal(size=(len(substitutes), DIM)).astype(np.float32))


def without_negatives(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if not k.startswith('negative_')}


@pytest.fixture
def cache(tmp_path):
    cache = WordFeatureCache.create(str(tmp_path / 'words'), SETTINGS)
    for caption_id in CAPTIONS:
        cache.write(caption_id, make_entry(caption_id))
    return cache


def test_entries_round_trip(cache):
    assert cache.caption_ids() == ['3', '7'] and len(cache) == 2 and 3 in cache
    assert cache.meta['format'] == CACHE_FORMAT and cache.has_negatives
    expected = make_entry(3)
    entry = cache.read(3, caption=CAPTIONS[3])
    assert str(entry['caption']) == CAPTIONS[3] and str(entry['caption_id']) == '3'
    assert entry['token_offsets'].dtype == np.int32 and entry['token_feats'].dtype == np.float32
    np.testing.assert_array_equal(entry['token_offsets'], expected['token_offsets'])
    np.testing.assert_array_equal(entry['token_feats'], expected['token_feats'])
    assert entry['negative_words'].tolist() == [2, 6]
    assert entry['negative_counts'].tolist() == [2, 1]
    assert entry['negative_substitutes'].tolist() == ['square', 'star', 'circle']
    np.testing.assert_array_equal(entry['negative_feats'], expected['negative_feats'])
    # a caption without substitutes: empty arrays of the right shapes
    empty = cache.read(7)
    assert empty['negative_words'].shape == (0, ) and empty['negative_feats'].shape == (0, DIM)
    # without the negative fields
    assert sorted(cache.read(3, with_negatives=False)) == [
        'caption', 'caption_id', 'token_feats', 'token_offsets']
    assert cache.verify() == []


def test_float16_cache(tmp_path):
    settings = dict(SETTINGS, features=dict(SETTINGS['features'], dtype='float16'))
    cache = WordFeatureCache.create(str(tmp_path / 'half'), settings)
    cache.write(3, {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v
                    for k, v in make_entry(3).items()})  # tensors are accepted too
    entry = cache.read(3)
    assert entry['token_feats'].dtype == np.float16 == entry['negative_feats'].dtype
    # float16 keeps about three significant digits of N(0, 1) features
    np.testing.assert_allclose(entry['token_feats'], make_entry(3)['token_feats'], atol=2e-3)


def test_cache_without_negatives(tmp_path):
    cache = WordFeatureCache.create(str(tmp_path / 'plain'), dict(SETTINGS, negatives=None))
    assert not cache.has_negatives
    with pytest.raises(WordFeatureCacheError, match='made without a negatives file'):
        cache.write(3, make_entry(3))
    cache.write(3, without_negatives(make_entry(3)))
    with pytest.raises(WordFeatureCacheError, match=r'plain/meta\.json: .*without a negatives'):
        cache.read(3)
    assert 'negative_feats' not in cache.read(3, with_negatives=False)


def test_inconsistent_entries_are_not_written(cache):
    bad = make_entry(3)
    bad['negative_counts'] = [2, 2]  # 4 substitutes for 3 features
    with pytest.raises(WordFeatureCacheError, match=r'9\.npz \(caption 9, being written\).*'
                       r'expected \(4,\) and \(4, 4\)'):
        cache.write(9, bad)
    bad = make_entry(3)
    bad['token_feats'] = bad['token_feats'][:, :3]  # another feature size
    with pytest.raises(WordFeatureCacheError, match='token_feats has size 3, the cache 4'):
        cache.write(9, bad)
    with pytest.raises(WordFeatureCacheError, match=r"no \['negative_counts'"):
        cache.write(9, {k: v for k, v in make_entry(3).items() if k != 'negative_counts'})
    assert 9 not in cache


@pytest.mark.parametrize('damage', ['flip_byte', 'truncate', 'empty'])
def test_damaged_entry_is_reported_by_name(cache, damage):
    path = cache.entry_path(3)
    if damage == 'flip_byte':  # one bit of one feature: the CRC-32 no longer matches
        flip_byte(path, make_entry(3)['negative_feats'].tobytes())
    elif damage == 'truncate':
        with open(path, 'r+b') as f:
            f.truncate(os.path.getsize(path) // 2)
    else:
        open(path, 'wb').close()
    with pytest.raises(WordFeatureCacheError, match=r'captions/3\.npz \(caption 3\): corrupt'):
        cache.read(3)
    bad = cache.verify()
    assert [caption_id for caption_id, _ in bad] == ['3'] and path in bad[0][1]
    cache.read(7)  # the other entry is fine


def test_caption_mismatch_and_missing_entries_are_named(cache):
    with pytest.raises(WordFeatureCacheError,
                       match=r"3\.npz \(caption 3\): cached for the caption 'a red circle left "
                       r"of a square', but the sample's is 'a red square'"):
        cache.read(3, caption='a red square')
    os.replace(cache.entry_path(7), cache.entry_path(8))
    with pytest.raises(WordFeatureCacheError, match=r'8\.npz \(caption 8\): holds caption 7'):
        cache.read(8)
    with pytest.raises(WordFeatureCacheError, match=r'7\.npz \(caption 7\): no entry'):
        cache.read(7)


def test_resume_needs_the_same_settings(cache):
    assert WordFeatureCache.create(cache.root, SETTINGS).caption_ids() == ['3', '7']
    other = dict(SETTINGS, features=dict(SETTINGS['features'], dtype='float16'),
                 negatives=None)
    with pytest.raises(WordFeatureCacheError,
                       match=r"features\.dtype: 'float32' vs 'float16'; negatives: \{"):
        WordFeatureCache.create(cache.root, other)
    with pytest.raises(WordFeatureCacheError, match='exists already'):
        WordFeatureCache.create(cache.root, SETTINGS, resume=False)
    with pytest.raises(WordFeatureCacheError, match='meta.json is missing'):
        WordFeatureCache(osp.join(cache.root, 'nowhere'))
    with pytest.raises(ValueError, match='cannot change'):
        cache.update_meta(features={})


def test_killed_write_leaves_no_entry(cache):
    path = cache.entry_path(9)
    with pytest.raises(KeyboardInterrupt):
        with atomic_open(path, 'wb') as f:
            f.write(b'half an entry')
            raise KeyboardInterrupt
    assert 9 not in cache
    with open(osp.join(cache.captions_dir, '.tmp-9.npz.x1'), 'wb') as f:
        f.write(b'half')  # what a process killed outright leaves
    assert len(cache) == 2 and cache.remove_stale_temporaries() == ['.tmp-9.npz.x1']


def test_pad_substitutes():
    feats = np.arange(6, dtype=np.float32).reshape(3, 2)  # rows 0, 1 -> word 0; row 2 -> word 1
    padded, mask = pad_substitutes([2, 1], feats)
    assert padded.shape == (2, 2, 2) and mask.tolist() == [[True, True], [True, False]]
    assert padded[1].tolist() == [[4, 5], [0, 0]]
    padded, mask = pad_substitutes([], np.zeros((0, 2), np.float32))
    assert padded.shape == (0, 0, 2) and mask.shape == (0, 0)


def test_load_word_features_and_pack(cache):
    transform = TRANSFORMS.build(dict(type='LoadWordFeatures', cache_dir=cache.root))
    results = transform(dict(caption_id=3, caption=CAPTIONS[3], img_id=1))
    expected = make_entry(3)
    np.testing.assert_array_equal(results['token_feats'], expected['token_feats'])
    assert results['token_offsets'].dtype == np.int64
    assert results['substitute_word_index'].tolist() == [2, 6]
    assert results['substitute_counts'].tolist() == [2, 1]
    assert results['substitute_feats'].shape == (2, 2, DIM)
    np.testing.assert_array_equal(results['substitute_feats'][0], expected['negative_feats'][:2])
    np.testing.assert_array_equal(results['substitute_feats'][1, 0], expected['negative_feats'][2])
    assert not results['substitute_feats'][1, 1].any()

    sample = PackGroundingInputs()(results)['data_samples']
    assert sample.tokens.feats.shape == (len(expected['token_offsets']), DIM)
    assert torch.equal(sample.tokens.offsets, torch.as_tensor(expected['token_offsets']))
    assert sample.substitutes.word_index.tolist() == [2, 6]
    assert sample.substitutes.feats.shape == (2, 2, DIM)

    # the best substitute only; no substitutes at all
    one = LoadWordFeatures(cache.root, max_negatives=1)(dict(caption_id=3, caption=CAPTIONS[3]))
    assert one['substitute_counts'].tolist() == [1, 1] and one['substitute_feats'].shape[1] == 1
    np.testing.assert_array_equal(one['substitute_feats'][:, 0],
                                  expected['negative_feats'][[0, 2]])
    plain = LoadWordFeatures(cache.root, with_negatives=False)(
        dict(caption_id=7, caption=CAPTIONS[7]))
    assert 'substitute_feats' not in plain and 'substitutes' not in PackGroundingInputs()(
        plain)['data_samples']


def test_load_word_features_names_bad_samples(cache):
    transform = LoadWordFeatures(cache.root)
    with pytest.raises(WordFeatureCacheError, match=r"3\.npz \(caption 3\): .*'a blue star'"):
        transform(dict(caption_id=3, caption='a blue star'))
    with pytest.raises(WordFeatureCacheError, match=r'5\.npz \(caption 5\): no entry'):
        transform(dict(caption_id=5, caption='a square'))
    with pytest.raises(KeyError, match='group_by_image=False'):
        transform(dict(caption_ids=[3], captions=[CAPTIONS[3]]))


def test_settings_identify_encoder_tokenizer_and_negatives(tmp_path):
    from transformers import BertTokenizerFast
    vocab = tmp_path / 'vocab.txt'
    vocab.write_text('\n'.join(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'red']) + '\n')
    torch.manual_seed(0)
    encoder = MODELS.build(dict(type='BertTextEncoder', num_layers=1, config=dict(
        vocab_size=8, hidden_size=DIM, num_attention_heads=1, intermediate_size=8)))
    tokenizer = BertTokenizerFast(vocab=str(vocab))
    negatives = tmp_path / 'negatives.json'
    negatives.write_text('{}')

    def settings(**kwargs):
        return word_cache_settings(encoder, tokenizer, pretrained='/models/bert-base-uncased/',
                                   max_text_length=40, dtype='float32', **kwargs)

    first = settings(negatives_file=str(negatives))
    assert first['sources'] == dict(pretrained='bert-base-uncased',
                                    negatives_file='negatives.json')
    assert first['features'] == dict(max_text_length=40, dtype='float32', dim=DIM)
    # the same weights and negatives under other names resume into the same cache
    root = str(tmp_path / 'cache')
    WordFeatureCache.create(root, first)
    moved = tmp_path / 'renamed_negatives.json'
    moved.write_text(negatives.read_text())
    renamed = word_cache_settings(encoder, tokenizer, pretrained='/elsewhere/bert/',
                                  max_text_length=40, dtype='float32',
                                  negatives_file=str(moved))
    assert WordFeatureCache.create(root, renamed).meta['sources'] == first['sources']
    # the tokenizer's transient truncation / padding state does not change its hash
    tokenizer(['a red', 'red'], padding='longest', truncation=True, max_length=3)
    assert settings(negatives_file=str(negatives)) == first
    # any weight, vocabulary entry or negatives byte does
    with torch.no_grad():
        encoder.bert.embeddings.word_embeddings.weight[0, 0] += 1
    assert settings(negatives_file=str(negatives))['encoder'] != first['encoder']
    vocab.write_text(vocab.read_text() + 'blue\n')
    assert tokenizer_sha256(BertTokenizerFast(vocab=str(vocab))) != first['tokenizer']['sha256']
    negatives.write_text('{ }')
    assert settings(negatives_file=str(negatives))['negatives'] != first['negatives']
    assert settings(negatives_file=None)['negatives'] is None
