"""InfoGroundGrounder: token selection, losses through the model, prediction, and the same
with cached word features."""

import json

import pytest
import torch
from mmengine.structures import InstanceData

from mmgrounding.datasets.transforms import (
    LoadCaptionNegatives,
    LoadWordFeatures,
    PackGroundingInputs,
)
from mmgrounding.datasets.word_feature_cache import WordFeatureCache, word_cache_settings
from mmgrounding.models.fusion.word_region_attention import phrase_region_scores
from mmgrounding.registry import MODELS
from mmgrounding.structures import GroundingDataSample
from mmgrounding.text import word_tokenize
from mmgrounding.text.negatives import NEGATIVES_FORMAT

REGION_DIM = 6
WORDS = ['a', 'red', 'blue', 'big', 'circle', 'square', 'star', 'left', 'of', 'the', '##s']


def write_vocab(path) -> str:
    specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    path.write_text('\n'.join(specials + WORDS) + '\n')
    return str(path)


def tiny_infoground_cfg(vocab_file: str, **overrides) -> dict:
    bert = dict(
        vocab_size=32,
        hidden_size=16,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    cfg = dict(
        type='InfoGroundGrounder',
        text_encoder=dict(type='BertTextEncoder', config=bert, num_layers=1),
        tokenizer=dict(vocab_file=vocab_file),
        attention=dict(type='WordRegionAttention', region_dim=REGION_DIM, word_dim=16, embed_dim=8),
    )
    cfg.update(overrides)
    return cfg


CAPTIONS = ['a red circle left of a big blue square', 'the blue star', 'red circles']
# phrase spans in characters, end exclusive
SPANS = [[(0, 12), (21, 38)], [(0, 13)], [(0, 11)]]


def make_samples(captions=CAPTIONS, spans=SPANS, *, num_regions=(5, 3, 4), negatives=None, seed=0):
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for i, caption in enumerate(captions):
        k = num_regions[i % len(num_regions)]
        corners = torch.rand(k, 2, generator=gen) * 50
        sample = GroundingDataSample()
        sample.set_metainfo(
            dict(
                img_id=i,
                caption=caption,
                phrase_spans=list(spans[i]),
                phrases=[caption[s:e] for s, e in spans[i]],
                ori_shape=(100, 100),
            )
        )
        if negatives is not None and negatives[i] is not None:
            sample.set_metainfo(dict(negatives=negatives[i]))
        sample.proposals = InstanceData(
            bboxes=torch.cat([corners, corners + 10], dim=1),
            feats=torch.randn(k, REGION_DIM, generator=gen),
        )
        samples.append(sample)
    return samples


@pytest.fixture
def model(tmp_path):
    torch.manual_seed(0)
    return MODELS.build(tiny_infoground_cfg(write_vocab(tmp_path / 'vocab.txt')))


def tokens(model, text):
    return model.tokenizer.convert_ids_to_tokens(model.tokenizer(text)['input_ids'])


def test_nouns_and_adjectives_select_their_wordpieces(model):
    caption = 'red circles left of the star'
    assert tokens(model, caption) == [
        '[CLS]',
        'red',
        'circle',
        '##s',
        'left',
        'of',
        'the',
        'star',
        '[SEP]',
    ]
    offsets = model.tokenizer(caption, return_offsets_mapping=True, return_tensors='pt')[
        'offset_mapping'
    ][0]
    # tag_words: red ADJ, circles NOUN (both pieces), left VERB, of ADP, the DET, star NOUN
    assert model.selected_tokens(caption, offsets).tolist() == [
        False,
        True,
        True,
        True,
        False,
        False,
        False,
        True,
        False,
    ]


def test_text_encoder_is_frozen_and_stays_in_eval_mode(model):
    model.train()
    assert model.training and model.attention.training
    assert not model.text_encoder.training
    assert not any(p.requires_grad for p in model.text_encoder.parameters())


def test_image_loss_trains_the_attention_only(model):
    model.train()
    losses = model.loss(None, make_samples())
    assert set(losses) == {'loss_img'}  # no negatives in the batch: no L_lang
    assert torch.isfinite(losses['loss_img']) and losses['loss_img'] > 0
    losses['loss_img'].backward()
    for name, param in model.attention.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert all(p.grad is None for p in model.text_encoder.parameters())


def test_image_loss_matches_the_attention_module(model):
    """The model's L_img is the loss of φ from WordRegionAttention on the same features."""
    model.eval()  # BatchNorm by running statistics: the projections do not depend on batching
    samples = make_samples()
    loss = model.loss(None, samples)['loss_img']
    words, word_mask, offsets = model.encode_text(CAPTIONS, torch.device('cpu'))
    regions, region_mask = model._regions(samples)
    phi, _ = model.attention(
        regions, words, region_mask=region_mask, word_mask=word_mask, all_pairs=True
    )  # (B, B, L)
    token_mask = torch.stack([model.selected_tokens(c, o) for c, o in zip(CAPTIONS, offsets)])
    # red circle big blue square | blue star | red circle ##s
    assert token_mask.sum(dim=1).tolist() == [5, 2, 3]
    expected = -phi.log_softmax(dim=1).diagonal(dim1=0, dim2=1).T[token_mask].mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_language_loss_with_negatives(model):
    model.train()
    # "circle" (word 2) of the first caption: two substitutes; "star" (word 2) of the second
    negatives = [{2: ['square', 'star']}, [(2, ['circle'])], None]
    losses = model.loss(None, make_samples(negatives=negatives))
    assert set(losses) == {'loss_img', 'loss_lang'}
    assert torch.isfinite(losses['loss_lang']) and losses['loss_lang'] > 0
    losses['loss_lang'].backward()
    assert model.attention.word_query[0].weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.text_encoder.parameters())

    # by hand: φ of the true word and of its substitutes in the caption, same image
    model.eval()
    loss = model.loss(None, make_samples(negatives=negatives))['loss_lang']
    samples = make_samples()
    regions, region_mask = model._regions(samples)
    expected = []
    for b, (caption, subs, token) in enumerate(
        [(CAPTIONS[0], ['square', 'star'], 3), (CAPTIONS[1], ['circle'], 3)]
    ):
        start = caption.index(tokens(model, caption)[token])
        end = start + len(tokens(model, caption)[token])
        texts = [caption] + [caption[:start] + s + caption[end:] for s in subs]
        words, word_mask, _ = model.encode_text(texts, torch.device('cpu'))
        phi, _ = model.attention(
            regions[b : b + 1].expand(len(texts), -1, -1),
            words,
            region_mask=region_mask[b : b + 1].expand(len(texts), -1),
            word_mask=word_mask,
        )  # (1 + K, L)
        expected.append(-phi[:, token].log_softmax(dim=0)[0])
    assert loss.item() == pytest.approx(torch.stack(expected).mean().item(), rel=1e-5)


def test_predict_ranks_proposals_by_phrase_region_scores(model):
    model.eval()
    samples = model.predict(None, make_samples())
    words, word_mask, _ = model.encode_text(CAPTIONS, torch.device('cpu'))
    regions, region_mask = model._regions(samples)
    _, attention = model.attention(
        regions, words, region_mask=region_mask, word_mask=word_mask
    )  # (B, L, K)
    # tokens ([CLS] first): "a red circle" 1-3, "a big blue square" 6-9, "the blue star" 1-3,
    # "red circles" 1-3 (circle ##s)
    phrase_tokens = [[[1, 2, 3], [6, 7, 8, 9]], [[1, 2, 3]], [[1, 2, 3]]]
    for i, sample in enumerate(samples):
        k = int(region_mask[i].sum())
        mask = torch.zeros(len(phrase_tokens[i]), attention.shape[1], dtype=torch.bool)
        for p, toks in enumerate(phrase_tokens[i]):
            mask[p, toks] = True
        scores = phrase_region_scores(attention[i, :, :k], mask)  # (P, K)
        assert sample.pred_boxes.shape == (len(SPANS[i]), k, 4)
        assert torch.equal(sample.pred_scores, scores.sort(dim=1, descending=True).values)
        order = scores.argsort(dim=1, descending=True, stable=True)
        assert torch.equal(sample.pred_boxes, sample.proposals.bboxes[order])
        # a phrase's attention over its image's regions sums to at most its token count
        assert (sample.pred_scores >= 0).all() and (sample.pred_scores <= 1).all()


def test_predict_is_deterministic(model):
    model.eval()
    first = model.predict(None, make_samples())
    second = model.predict(None, make_samples())
    for a, b in zip(first, second):
        assert torch.equal(a.pred_boxes, b.pred_boxes)
        assert torch.equal(a.pred_scores, b.pred_scores)
    model.train()
    assert torch.equal(
        model.loss(None, make_samples())['loss_img'], model.loss(None, make_samples())['loss_img']
    )


def test_empty_phrases(model):
    model.eval()
    # no phrase at all, and a phrase without a span (-1, -1): no tokens, every region 0
    samples = model.predict(None, make_samples(spans=[[], [(-1, -1)], [(0, 3)]]))
    assert samples[0].pred_boxes.shape == (0, 5, 4) and samples[0].pred_scores.shape == (0, 5)
    assert samples[1].pred_boxes.shape == (1, 3, 4)
    assert torch.equal(samples[1].pred_scores, torch.zeros(1, 3))
    assert samples[2].pred_scores.shape == (1, 4) and samples[2].pred_scores.sum() > 0
    # a caption without nouns or adjectives: L_img is 0 and the graph is intact
    model.train()
    losses = model.loss(None, make_samples(captions=['of the', 'of a'], spans=[[], []]))
    assert losses['loss_img'].item() == 0.0 and losses['loss_img'].requires_grad


def test_negatives_of_a_missing_word_name_the_caption(model):
    with pytest.raises(ValueError, match='the blue star'):
        model.loss(None, make_samples(negatives=[None, {7: ['circle']}, None]))


# ---------------------------------------------------------------------- cached word features
# "circle" (word 2) of the first caption and "star" (word 2) of the second have substitutes
NEGATIVES = [{2: ['square', 'star']}, {2: ['circle']}, None]


def write_negatives_file(path) -> str:
    """NEGATIVES as tools/generate_negatives.py stores them, keyed by caption id 0, 1, 2."""
    captions = {
        str(i): dict(
            image_id=i,
            words=word_tokenize(caption),
            negatives={str(k): v for k, v in (NEGATIVES[i] or {}).items()},
        )
        for i, caption in enumerate(CAPTIONS)
    }
    path.write_text(
        json.dumps(dict(format=NEGATIVES_FORMAT, settings={}, candidates=[], captions=captions))
    )
    return str(path)


def write_word_cache(model, root, *, dtype='float32', negatives_file=None) -> str:
    """The cache as tools/cache_word_features.py writes it, but one caption per encoder pass:
    no padding, unlike the batched online path."""
    cache = WordFeatureCache.create(
        str(root),
        word_cache_settings(
            model.text_encoder,
            model.tokenizer,
            pretrained=None,
            max_text_length=model.max_text_length,
            dtype=dtype,
            negatives_file=negatives_file,
        ),
    )
    for i, caption in enumerate(CAPTIONS):
        negatives = None if negatives_file is None else [NEGATIVES[i]]
        (entry,) = model.caption_word_features([caption], negatives, device=torch.device('cpu'))
        cache.write(i, dict(entry, caption=caption))
    return str(root)


def cached_samples(cache_dir, *, negatives=None, **load_kwargs):
    """make_samples() with the cached words that LoadWordFeatures and PackGroundingInputs give
    (and metainfo ``negatives`` only when asked)."""
    samples = make_samples(negatives=negatives)
    load = LoadWordFeatures(cache_dir, **load_kwargs)
    for i, sample in enumerate(samples):
        packed = PackGroundingInputs()(load(dict(caption_id=i, caption=CAPTIONS[i])))
        sample.tokens = packed['data_samples'].tokens
        if 'substitutes' in packed['data_samples']:
            sample.substitutes = packed['data_samples'].substitutes
    return samples


def test_caption_word_features_do_not_depend_on_the_batch(model):
    cpu = torch.device('cpu')
    together = model.caption_word_features(CAPTIONS, NEGATIVES, device=cpu)
    in_pairs = model.caption_word_features(CAPTIONS, NEGATIVES, device=cpu, batch_size=2)
    alone = [
        model.caption_word_features([c], [n], device=cpu)[0] for c, n in zip(CAPTIONS, NEGATIVES)
    ]
    words, word_mask, offsets = model.encode_text(CAPTIONS, cpu)
    for b, entry in enumerate(together):
        # the real tokens of the padded batch
        assert torch.equal(entry['token_feats'], words[b][word_mask[b]])
        assert torch.equal(entry['token_offsets'], offsets[b][word_mask[b]])
        for other in (in_pairs[b], alone[b]):
            assert torch.equal(other['token_offsets'], entry['token_offsets'])
            assert torch.allclose(other['token_feats'], entry['token_feats'], atol=1e-5)
            assert torch.allclose(other['negative_feats'], entry['negative_feats'], atol=1e-5)
    # word 2 "circle" -> square, star; word 2 "star" -> circle; the third caption has none
    assert [e['negative_words'].tolist() for e in together] == [[2], [2], []]
    assert together[0]['negative_substitutes'] == ['square', 'star']
    assert [e['negative_feats'].shape for e in together] == [(2, 16), (1, 16), (0, 16)]
    # a substitute's feature is its first WordPiece in the substituted caption
    words, _, _ = model.encode_text(['a red square left of a big blue square'], cpu)
    assert torch.allclose(together[0]['negative_feats'][0], words[0, 3], atol=1e-5)


@pytest.mark.parametrize('dtype, rel', [('float32', 1e-5), ('float16', 1e-3)])
def test_cached_features_give_the_online_losses(model, tmp_path, dtype, rel):
    negatives_file = write_negatives_file(tmp_path / 'negatives.json')
    cache_dir = write_word_cache(
        model, tmp_path / 'words', dtype=dtype, negatives_file=negatives_file
    )
    model.train()
    # online: the negatives from the metainfo, as LoadCaptionNegatives puts them
    load_negatives = LoadCaptionNegatives(negatives_file)
    negatives = [
        load_negatives(dict(caption_id=i, caption=c))['negatives'] for i, c in enumerate(CAPTIONS)
    ]
    online = model.loss(None, make_samples(negatives=negatives))
    samples = cached_samples(cache_dir)
    assert all('negatives' not in s.metainfo for s in samples)  # not needed with the cache
    cached = model.loss(None, samples)
    assert set(cached) == set(online) == {'loss_img', 'loss_lang'}
    for key in online:
        assert cached[key].item() == pytest.approx(online[key].item(), rel=rel), key
    cached['loss_lang'].backward()
    assert model.attention.word_query[0].weight.grad.abs().sum() > 0
    # with_negatives=False and no metainfo negatives: L_img only (without the substitutes in
    # the word MLPs' BatchNorm batch, so compared with the online loss without negatives)
    plain = model.loss(None, cached_samples(cache_dir, with_negatives=False))
    assert set(plain) == {'loss_img'}
    online_plain = model.loss(None, make_samples())['loss_img']
    assert plain['loss_img'].item() == pytest.approx(online_plain.item(), rel=rel)


@pytest.mark.parametrize('dtype, atol', [('float32', 1e-6), ('float16', 1e-3)])
def test_cached_features_give_the_online_predictions(model, tmp_path, dtype, atol):
    cache_dir = write_word_cache(model, tmp_path / 'words', dtype=dtype)
    model.eval()
    online = model.predict(None, make_samples())
    cached = model.predict(None, cached_samples(cache_dir, with_negatives=False))
    for a, b in zip(online, cached):
        assert torch.allclose(a.pred_scores, b.pred_scores, atol=atol)
        if dtype == 'float32':
            assert torch.equal(a.pred_boxes, b.pred_boxes)
    phi_online, _ = model(None, make_samples())  # tensor mode
    phi_cached, _ = model(None, cached_samples(cache_dir, with_negatives=False))
    assert torch.allclose(phi_online, phi_cached, atol=atol * 10)


def test_cached_words_with_negatives_from_the_metainfo(model, tmp_path):
    """A cache without negatives and LoadCaptionNegatives: the substitutes are encoded online."""
    cache_dir = write_word_cache(model, tmp_path / 'words')
    model.eval()
    online = model.loss(None, make_samples(negatives=NEGATIVES))
    cached = model.loss(None, cached_samples(cache_dir, negatives=NEGATIVES, with_negatives=False))
    assert set(cached) == {'loss_img', 'loss_lang'}
    for key in online:
        assert cached[key].item() == pytest.approx(online[key].item(), rel=1e-5), key


def test_mixed_batches_and_foreign_caches_raise(model, tmp_path):
    cache_dir = write_word_cache(model, tmp_path / 'words')
    samples = cached_samples(cache_dir, with_negatives=False)
    del samples[1].tokens
    with pytest.raises(ValueError, match='2 of the 3 samples of the batch carry cached word'):
        model.loss(None, samples)
    samples = cached_samples(cache_dir, with_negatives=False)
    for sample in samples:  # features of an encoder of another size
        sample.tokens = InstanceData(
            feats=sample.tokens.feats[:, :8], offsets=sample.tokens.offsets
        )
    with pytest.raises(ValueError, match='size 8, but the text encoder gives 16'):
        model.predict(None, samples)


# ---------------------------------------------------------------- paper options (issue 13)
TWO_NOUN_NEGATIVES = [{2: ['square', 'star'], 7: ['circle']}, [(2, ['circle'])], None]


def per_word_language_losses(model, samples):
    """By hand, in eval mode: −log softmax of the true word's φ against its substitutes'.

    Caption 0 "a red circle left of a big blue square": word 2 "circle" (token 3) with
    square/star, word 7 "blue" (token 8) with circle; caption 1 "the blue star": word 2
    "star" (token 3) with circle.
    """
    regions, region_mask = model._regions(samples)
    out = {}
    for key, (b, word, subs) in dict(
        c0_circle=(0, 'circle', ['square', 'star']),
        c0_blue=(0, 'blue', ['circle']),
        c1_star=(1, 'star', ['circle']),
    ).items():
        caption = CAPTIONS[b]
        start = caption.index(word)
        end = start + len(word)
        texts = [caption] + [caption[:start] + s + caption[end:] for s in subs]
        token = tokens(model, caption).index(word)
        words, word_mask, _ = model.encode_text(texts, torch.device('cpu'))
        phi, _ = model.attention(
            regions[b : b + 1].expand(len(texts), -1, -1),
            words,
            region_mask=region_mask[b : b + 1].expand(len(texts), -1),
            word_mask=word_mask,
        )  # (1 + K, L)
        out[key] = float(-phi[:, token].log_softmax(dim=0)[0])
    return out


def test_one_word_per_caption_draws_one_noun_of_each_caption(model, tmp_path):
    model.eval()
    samples = make_samples(negatives=TWO_NOUN_NEGATIVES)
    by_hand = per_word_language_losses(model, samples)
    everything = model.loss(None, samples)['loss_lang']
    assert float(everything) == pytest.approx(sum(by_hand.values()) / 3, rel=1e-5)
    one = MODELS.build(
        tiny_infoground_cfg(str(tmp_path / 'vocab.txt'), lang_words='one_per_caption')
    )
    one.load_state_dict(model.state_dict())
    one.eval()
    # caption 1 has one word, caption 0 one of its two: the mean of two per-word losses
    choices = {round((by_hand[w] + by_hand['c1_star']) / 2, 5): w for w in ('c0_circle', 'c0_blue')}
    seen = set()
    for seed in range(8):
        torch.manual_seed(seed)
        value = round(
            float(one.loss(None, make_samples(negatives=TWO_NOUN_NEGATIVES))['loss_lang']), 5
        )
        assert value in choices, (value, choices)
        seen.add(choices[value])
    assert seen == {'c0_circle', 'c0_blue'}  # both nouns are drawn over 8 steps


def test_one_word_per_caption_function():
    from mmgrounding.models.grounders.word_batch import one_word_per_caption

    negatives = dict(
        feats=torch.arange(4.0)[:, None, None],
        mask=torch.ones(4, 1).bool(),
        sample=torch.tensor([0, 0, 0, 2]),
        token=torch.tensor([1, 4, 6, 2]),
    )
    kept = one_word_per_caption(negatives, torch.Generator().manual_seed(0))
    assert kept['sample'].tolist() == [0, 2]
    assert kept['token'][1] == 2 and int(kept['token'][0]) in (1, 4, 6)
    assert kept['feats'][:, 0, 0].tolist()[1] == 3.0


def test_separate_substitute_projection_keeps_them_out_of_the_caption_batchnorm(model, tmp_path):
    separate = MODELS.build(
        tiny_infoground_cfg(str(tmp_path / 'vocab.txt'), substitute_projection='separate')
    )
    separate.load_state_dict(model.state_dict())
    with_negatives = make_samples(negatives=TWO_NOUN_NEGATIVES)
    # eval mode: BatchNorm uses running statistics, so batching changes nothing and both
    # paths give the by-hand L_lang
    model.eval()
    separate.eval()
    by_hand = per_word_language_losses(model, with_negatives)
    for m in (model, separate):
        assert float(m.loss(None, with_negatives)['loss_lang']) == pytest.approx(
            sum(by_hand.values()) / 3, rel=1e-5
        )
    # train mode: with 'separate' the caption tokens are normalised over themselves only,
    # so L_img is the L_img of the batch without negatives; 'joint' normalises them together
    # with the substitutes, which changes L_img
    model.train()
    separate.train()
    without = float(model.loss(None, make_samples())['loss_img'])
    assert float(separate.loss(None, with_negatives)['loss_img']) == pytest.approx(
        without, rel=1e-6
    )
    assert float(model.loss(None, with_negatives)['loss_img']) != pytest.approx(without, rel=1e-4)
    losses = separate.loss(None, with_negatives)
    losses['loss_lang'].backward()
    assert separate.attention.word_value[0].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='substitute_projection'):
        MODELS.build(
            tiny_infoground_cfg(str(tmp_path / 'vocab.txt'), substitute_projection='shared')
        )
    with pytest.raises(ValueError, match='lang_words'):
        MODELS.build(tiny_infoground_cfg(str(tmp_path / 'vocab.txt'), lang_words='one'))
