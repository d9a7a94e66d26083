"""CKDGrounder: branches, phrase encoder, losses through the model, prediction, end to end."""

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from mmgrounding.datasets import RegionCache, region_feature_stats
from mmgrounding.registry import MODELS
from mmgrounding.structures import GroundingDataSample

from .ckd_tiny import FEATURE_DIM, SHAPES, build_categories, tiny_ckd_cfg, write_tiny_cache


@pytest.fixture(scope='module')
def tiny_cache(synthground_root, tmp_path_factory):
    return write_tiny_cache(synthground_root, str(tmp_path_factory.mktemp('ckd')))


@pytest.fixture
def vocab(tmp_path):
    path = tmp_path / 'vocab.txt'
    path.write_text('[PAD]\n[UNK]\na\nred\nblue\ncircle\nsquare\nshape\nthe\nbig\n')
    return str(path)


def make_samples(phrases_per_sample, *, img_ids=None, num_regions=(5, 3), seed=0):
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for i, phrases in enumerate(phrases_per_sample):
        k = num_regions[i % len(num_regions)]
        corners = torch.rand(k, 2, generator=gen) * 50
        sample = GroundingDataSample()
        sample.set_metainfo(
            dict(
                img_id=(img_ids or range(len(phrases_per_sample)))[i],
                phrases=list(phrases),
                ori_shape=(100, 100),
            )
        )
        sample.proposals = InstanceData(
            bboxes=torch.cat([corners, corners + 10], dim=1),
            scores=torch.linspace(1, 0, k),
            feats=torch.randn(k, FEATURE_DIM, generator=gen),
            labels=torch.zeros(k, dtype=torch.long),
            class_probs=torch.rand(k, len(SHAPES) + 1, generator=gen).softmax(dim=1),
        )
        samples.append(sample)
    return samples


PHRASES = [['a red circle', 'the big square'], ['a blue shape', 'a circle', 'red']]


def test_branch_outputs_unit_vectors():
    branch = MODELS.build(dict(type='EmbeddingBranch', in_dim=6, hidden_dims=(8, 8), out_dim=4))
    out = branch(torch.randn(3, 5, 6))
    assert out.shape == (3, 5, 4)
    assert torch.allclose(out.norm(dim=-1), torch.ones(3, 5))
    # two hidden layers: Linear ReLU Linear ReLU Linear
    assert [type(m).__name__ for m in branch.layers] == ['Linear', 'ReLU'] * 2 + ['Linear']


def test_phrase_encoder_pools_only_real_words(vocab):
    torch.manual_seed(0)
    encoder = MODELS.build(
        dict(type='LSTMPhraseEncoder', vocab_file=vocab, embed_dim=4, hidden_dim=5)
    )
    # unknown words map to [UNK] (1); punctuation is a token
    assert encoder.token_ids('a purple circle').tolist() == [2, 1, 5]
    alone = encoder(['red'])
    batched = encoder(['red', 'a big red circle , the blue square'])
    assert batched.shape == (2, 5)
    # padding after "red" does not change its max-pooled state
    assert torch.allclose(alone[0], batched[0], atol=1e-6)
    assert encoder([]).shape == (0, 5)


def test_glove_initialises_the_embeddings(vocab, tmp_path):
    glove = tmp_path / 'glove.txt'
    glove.write_text('red 1 2 3\nzebra 0 0 0\ncircle -1 0.5 2\n')
    encoder = MODELS.build(
        dict(
            type='LSTMPhraseEncoder',
            vocab_file=vocab,
            embed_dim=3,
            hidden_dim=4,
            glove_file=str(glove),
            freeze_embeddings=True,
        )
    )
    weight = encoder.embedding.weight
    assert weight[3].tolist() == [1, 2, 3] and weight[5].tolist() == [-1, 0.5, 2]
    assert weight[2].abs().sum() == 0 and not weight.requires_grad  # "a": not in the file


def test_losses_train_every_parameter(vocab):
    torch.manual_seed(0)
    model = MODELS.build(tiny_ckd_cfg(vocab))
    losses = model.loss(None, make_samples(PHRASES))
    assert set(losses) == {'loss_is', 'loss_rp'}
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    sum(losses.values()).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_distill_weight_scales_the_region_phrase_loss(vocab):
    torch.manual_seed(0)
    model = MODELS.build(tiny_ckd_cfg(vocab))
    samples = make_samples(PHRASES)
    base = model.loss(None, samples)['loss_rp']
    model.distill_weight = 3.0
    assert model.loss(None, samples)['loss_rp'].item() == pytest.approx(3 * base.item())
    model.distill_weight = 0.0
    assert model.loss(None, samples)['loss_rp'].item() == 0.0


def test_only_mapped_phrases_enter_the_region_phrase_loss(vocab):
    torch.manual_seed(0)
    model = MODELS.build(tiny_ckd_cfg(vocab))
    # "a blue shape" and "red" map to no shape class; the others to circle / square
    assert [model.phrase_class(t) for t in PHRASES[1]] == [None, 0, None]
    assert model.phrase_class('the big square') == 3
    with_unmapped = model.loss(None, make_samples(PHRASES))['loss_rp']
    mapped_only = make_samples([['a red circle', 'the big square'], ['a circle']])
    assert model.loss(None, mapped_only)['loss_rp'].item() == pytest.approx(
        with_unmapped.item(), abs=1e-6
    )
    # no mapped phrase at all: zero, and the NCE term still trains
    losses = model.loss(None, make_samples([['red'], ['a blue shape']]))
    assert losses['loss_rp'].item() == 0.0 and losses['loss_is'] > 0


def test_captions_of_one_image_are_all_positives(vocab):
    torch.manual_seed(0)
    model = MODELS.build(tiny_ckd_cfg(vocab, region_phrase_loss=None))
    samples = make_samples(
        [['a circle'], ['a circle'], ['red']], img_ids=['7', '7', '8'], num_regions=(4,)
    )
    samples[1].proposals = samples[0].proposals  # the same image twice
    loss = model.loss(None, samples)['loss_is']
    # compare with the loss written out: S of every sentence against every image
    scores = model._forward(None, samples)  # (P, B, K)
    S = scores.max(dim=2).values  # one phrase per sentence: (3, 3)
    logits = S / 0.5
    lsm = logits.log_softmax(dim=1)
    expected = -(lsm[0, :2].mean() + lsm[1, :2].mean() + lsm[2, 2]) / 3
    assert loss.item() == pytest.approx(expected.item(), abs=1e-5)


def test_max_margin_and_distill_only_variants(vocab):
    torch.manual_seed(0)
    mm = MODELS.build(
        tiny_ckd_cfg(
            vocab,
            region_phrase_loss=None,
            image_sentence_loss=dict(type='MaxMarginLoss', margin=0.05),
        )
    )
    assert set(mm.loss(None, make_samples(PHRASES))) == {'loss_is'}
    distill = MODELS.build(tiny_ckd_cfg(vocab, image_sentence_loss=None))
    assert set(distill.loss(None, make_samples(PHRASES))) == {'loss_rp'}
    with pytest.raises(ValueError, match='needs'):
        MODELS.build(tiny_ckd_cfg(vocab, image_sentence_loss=None, region_phrase_loss=None))


def test_predict_ranks_regions_by_score_without_the_detector(vocab):
    torch.manual_seed(0)
    model = MODELS.build(tiny_ckd_cfg(vocab)).eval()
    samples = model.predict(None, make_samples(PHRASES))
    for sample, phrases, k in zip(samples, PHRASES, (5, 3)):
        assert sample.pred_boxes.shape == (len(phrases), k, 4)
        assert sample.pred_scores.shape == (len(phrases), k)
        assert (sample.pred_scores[:, :-1] >= sample.pred_scores[:, 1:]).all()
        # every ranking is a permutation of the proposals
        for p in range(len(phrases)):
            assert sorted(map(tuple, sample.pred_boxes[p].tolist())) == sorted(
                map(tuple, sample.proposals.bboxes.tolist())
            )
    # the detector's scores, labels and class probabilities do not change the prediction
    others = make_samples(PHRASES)
    for sample in others:
        k = len(sample.proposals)
        sample.proposals.scores = torch.rand(k)
        sample.proposals.labels = torch.randint(0, 9, (k,))
        sample.proposals.class_probs = torch.rand(k, 10)
    again = model.predict(None, others)
    for a, b in zip(samples, again):
        assert torch.equal(a.pred_boxes, b.pred_boxes)
        assert torch.equal(a.pred_scores, b.pred_scores)
    # a sample predicted alone gets what it got in the batch
    alone = model.predict(None, make_samples(PHRASES)[:1])[0]
    assert torch.allclose(alone.pred_scores, samples[0].pred_scores, atol=1e-6)


def test_deterministic_given_the_seed(vocab):
    def run():
        torch.manual_seed(1)
        model = MODELS.build(tiny_ckd_cfg(vocab))
        optim = torch.optim.Adam(model.parameters(), lr=1e-2)
        values = []
        for step in range(3):
            losses = model.loss(None, make_samples(PHRASES, seed=step))
            loss = sum(losses.values())
            optim.zero_grad()
            loss.backward()
            optim.step()
            values.append(loss.item())
        return values, model.predict(None, make_samples(PHRASES, seed=9))[0].pred_scores

    (a, pa), (b, pb) = run(), run()
    assert a == b and torch.equal(pa, pb)


def test_features_are_normalised_by_training_statistics(tiny_cache, vocab, synthground_root):
    cache_dir, _ = tiny_cache
    mean, std = region_feature_stats(cache_dir, split='train')
    cache = RegionCache(cache_dir)
    feats = np.concatenate([cache.read(i)['features'] for i in cache.split_ids('train')])
    assert np.allclose(mean, feats.mean(0), atol=1e-5)
    assert np.allclose(std, feats.std(0), atol=1e-5)
    model = MODELS.build(tiny_ckd_cfg(vocab, class_names=None, cache_dir=cache_dir))
    # from the cache's meta.json: the build's categories
    assert model.class_names == build_categories(synthground_root)
    assert np.allclose(model.feat_mean.numpy(), mean, atol=1e-6)
    assert set(model.state_dict()) >= {'feat_mean', 'feat_std'}


CKD_ITERS = 40


def test_ckd_learns_to_ground(learning_data, learning_baselines, tmp_path):
    """The SynthGround recipe (NCE + Distill, lr 1e-4, λ staircase at a fifth of the run) for
    CKD_ITERS iterations on the learning build (tests/learning.py, the default build v2: region
    features are RoIAlign of the pixels, proposals the jittered objects and random boxes) beats
    the detector-score baseline's R@1 (28.65) by 2 points and the centre baseline's pointing
    accuracy (13.48) by 20.

    Measured on v2 (``measure.py ckd --iters 40 --seed S``, one thread): R@1 39.89 / 35.39 /
    41.57 and pointing 42.70 / 42.70 / 44.94 for seeds 0 / 1 / 2; with every loss multiplied
    by zero (seed 0) R@1 16.29 and pointing 25.28, which fail both margins (by 14 and 8). The
    R@1 margin is narrow (the smallest seed is 6.7 above the baseline); pointing is the wide
    one. (On the v1 build: R@1 54.45 / 57.07 / 52.36 over a baseline of 28.27.)"""
    from tests.learning import method_config, train_and_test

    cfg = method_config('ckd', learning_data, str(tmp_path), iters=CKD_ITERS)
    metrics = train_and_test(cfg)
    assert metrics['box_recall/R@1'] >= (
        learning_baselines['detector-score']['box_recall/R@1'] + 2
    ), metrics
    assert metrics['pointing/accuracy'] >= (
        learning_baselines['centre']['pointing/accuracy'] + 20
    ), metrics


def test_word_vocab_is_ordered_by_count_then_alphabet(tmp_path):
    from mmgrounding.text import build_word_vocab, read_word_vocab, write_word_vocab

    words = build_word_vocab(['a red circle', 'A blue circle', 'the circle'], min_count=1)
    # circle 3, a 2, then blue, red, the once each (alphabetical)
    assert words == ['[PAD]', '[UNK]', 'circle', 'a', 'blue', 'red', 'the']
    assert build_word_vocab(['a red circle', 'a circle'], min_count=2) == [
        '[PAD]',
        '[UNK]',
        'a',
        'circle',
    ]
    write_word_vocab(words, str(tmp_path / 'v.txt'))
    assert read_word_vocab(str(tmp_path / 'v.txt')) == words
    (tmp_path / 'bad.txt').write_text('circle\n')
    with pytest.raises(ValueError, match='PAD'):
        read_word_vocab(str(tmp_path / 'bad.txt'))
