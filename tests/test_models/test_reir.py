"""ReIRGrounder: losses through the model, stages, switches, prediction, learning end to end."""

import pytest
import torch
from mmengine.structures import InstanceData

from mmgrounding.registry import MODELS
from mmgrounding.structures import GroundingDataSample

from .reir_tiny import FEATURE_DIM, SHAPES, tiny_reir_cfg

CAPTIONS = [
    ('a red circle above a blue square', [(0, 12), (19, 32)]),
    ('a star', [(0, 6)]),
    ('a green heart to the left of a star', [(0, 13), (29, 35)]),
]


@pytest.fixture
def vocab(tmp_path):
    path = tmp_path / 'vocab.txt'
    path.write_text(
        '[PAD]\n[UNK]\na\nred\nblue\ncircle\nsquare\nabove\nstar\ngreen\nheart\nto\nthe\nleft\nof\n'
    )
    return str(path)


@pytest.fixture
def relation_vocab(tmp_path):
    path = tmp_path / 'rel.txt'
    path.write_text('above\t5\n')
    return str(path)


def make_samples(captions=CAPTIONS, *, num_regions=(6, 4, 7), img_ids=None, seed=0):
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for i, (caption, spans) in enumerate(captions):
        k = num_regions[i % len(num_regions)]
        corners = torch.rand(k, 2, generator=gen) * 60
        sample = GroundingDataSample()
        sample.set_metainfo(
            dict(
                img_id=(img_ids or range(len(captions)))[i],
                caption=caption,
                phrases=[caption[s:e] for s, e in spans],
                phrase_spans=spans,
                ori_shape=(100, 120),
            )
        )
        bboxes = torch.cat([corners, corners + 10 + 20 * torch.rand(k, 2, generator=gen)], 1)
        bboxes[1] = bboxes[0] + 1  # a near duplicate of box 0, for the regression
        sample.proposals = InstanceData(
            bboxes=bboxes,
            feats=torch.randn(k, FEATURE_DIM, generator=gen),
            labels=torch.randint(len(SHAPES), (k,), generator=gen),
            scores=torch.rand(k, generator=gen),
        )
        samples.append(sample)
    return samples


def full_cfg(vocab, relation_vocab, **overrides):
    return tiny_reir_cfg(
        vocab,
        relation_classifier=dict(type='RelationClassifier', hidden_dim=8),
        relation_loss=dict(type='RelationClassificationLoss'),
        relation_vocab_file=relation_vocab,
        **overrides,
    )


def test_full_model_losses_are_finite_and_train_every_parameter(vocab, relation_vocab):
    torch.manual_seed(0)
    # no score gap: the attention of an untrained model is nearly uniform
    model = MODELS.build(
        full_cfg(
            vocab,
            relation_vocab,
            regression_loss=dict(type='SelfTaughtRegressionLoss', score_gap=0.0),
        )
    )
    model.train()
    losses = model.loss(None, make_samples())
    assert set(losses) == {
        'loss_rec_s1',
        'loss_rec_s2',
        'loss_rank_s1',
        'loss_rank_s2',
        'loss_reg_s1',
        'loss_reg_s2',
        'loss_rel',
    }
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['loss_rel'] > 0  # "above" is class 1 and links phrases 0 and 1
    sum(losses.values()).backward()
    no_grad = [
        n
        for n, p in model.named_parameters()
        if p.requires_grad and (p.grad is None or p.grad.abs().sum() == 0)
    ]
    # F_reg's hidden layer gets no gradient while its zero-initialised output layer is zero
    assert all(n.startswith('matching_head.reg.0') for n in no_grad), no_grad


def test_baseline_has_one_stage_and_no_regression(vocab):
    model = MODELS.build(
        tiny_reir_cfg(vocab, two_stage=False, regression_loss=None, object_graph=None)
    )
    losses = model.loss(None, make_samples())
    assert set(losses) == {'loss_rec_s1', 'loss_rank_s1'}
    model.eval()
    samples = model.predict(None, make_samples())
    for s in samples:
        assert torch.equal(s.pred_boxes_stage1, s.pred_boxes_fused)
        assert torch.equal(s.pred_boxes[:, 0], s.pred_boxes_stage1)
        # boxes are the proposals themselves
        proposals = s.proposals.bboxes
        assert all(any(torch.allclose(b, p) for p in proposals) for b in s.pred_boxes_stage1)


def test_regression_switch_scales_the_regression_losses(vocab):
    torch.manual_seed(0)
    model = MODELS.build(
        tiny_reir_cfg(vocab, regression_loss=dict(type='SelfTaughtRegressionLoss', score_gap=0.0))
    )
    with torch.no_grad():  # non-zero deltas so that the loss is not zero by chance
        model.matching_head.reg[-1].bias.fill_(0.5)
    model.train()
    on = model.loss(None, make_samples())
    model.regression_switch = 0.0
    off = model.loss(None, make_samples())
    assert on['loss_reg_s1'] > 0 and off['loss_reg_s1'] == 0 and off['loss_reg_s2'] == 0
    assert torch.allclose(on['loss_rec_s1'], off['loss_rec_s1'])


def test_predictions_carry_three_box_sets_in_the_image(vocab):
    torch.manual_seed(0)
    model = MODELS.build(tiny_reir_cfg(vocab, topk=3))
    with torch.no_grad():
        model.matching_head.reg[-1].bias.copy_(torch.tensor([2.0, -1.0, 1.0, 0.5]))
    model.eval()
    samples = model.predict(None, make_samples())
    for s in samples:
        num = len(s.metainfo['phrases'])
        assert s.pred_boxes.shape == (num, 3, 4) and s.pred_scores.shape == (num, 3)
        assert (s.pred_scores[:, :-1] >= s.pred_scores[:, 1:]).all()
        assert torch.equal(s.pred_boxes[:, 0], s.pred_boxes_fused)
        for key in ('stage1', 'stage2', 'fused'):
            boxes = s.get(f'pred_boxes_{key}')
            assert boxes.shape == (num, 4)
            assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 120).all()
            assert (boxes[:, 3] <= 100).all()
        # the answer is moved by the deltas: not a proposal
        assert not any(torch.allclose(b, p) for b in s.pred_boxes_fused for p in s.proposals.bboxes)


def test_uniform_edges_and_no_relations(vocab, relation_vocab):
    model = MODELS.build(
        full_cfg(
            vocab,
            relation_vocab,
            object_graph=dict(type='VisualObjectGraph', edge_weights='uniform'),
        )
    )
    samples = make_samples([('a star', [(0, 6)]), ('a red circle', [(0, 12)])])
    losses = model.loss(None, samples)  # one phrase each: no edge, no relation
    assert losses['loss_rel'].item() == 0.0
    one = model.loss(None, make_samples([CAPTIONS[0]]))  # a batch of one image
    assert one['loss_rank_s1'].item() == 0.0
    assert all(torch.isfinite(v) for v in one.values())


def test_prediction_does_not_depend_on_the_batch(vocab):
    torch.manual_seed(0)
    model = MODELS.build(tiny_reir_cfg(vocab))
    model.eval()
    together = model.predict(None, make_samples())
    alone = model.predict(None, make_samples()[1:2])
    assert torch.allclose(together[1].pred_boxes, alone[0].pred_boxes, atol=1e-5)


def test_bad_configs_are_refused(vocab):
    with pytest.raises(ValueError, match='two_stage'):
        MODELS.build(tiny_reir_cfg(vocab, two_stage=False))  # a graph without stage 2
    with pytest.raises(ValueError, match='go together'):
        MODELS.build(tiny_reir_cfg(vocab, relation_loss=dict(type='RelationClassificationLoss')))
    with pytest.raises(ValueError, match='16-d'):
        MODELS.build(
            tiny_reir_cfg(
                vocab,
                region_embedder=dict(type='RegionFeatureEmbedder', in_dim=FEATURE_DIM, out_dim=8),
            )
        )


def test_online_features_from_a_frozen_c4_backbone(vocab):
    torch.manual_seed(0)
    extractor = dict(
        type='FrozenC4RoIExtractor',
        backbone=dict(
            type='ResNet',
            depth=18,
            num_stages=3,
            strides=(1, 2, 2),
            dilations=(1, 1, 1),
            out_indices=(2,),
            frozen_stages=3,
            norm_eval=True,
            base_channels=8,
        ),
    )
    model = MODELS.build(
        tiny_reir_cfg(
            vocab,
            roi_extractor=extractor,
            region_frame='input',
            feature_dim=None,
            region_embedder=dict(type='RegionFeatureEmbedder', in_dim=32, out_dim=16),
        )
    )
    samples = make_samples()
    for s in samples:
        s.set_metainfo(dict(img_shape=(100, 120), scale_factor=(2.0, 2.0)))
    images = torch.randn(3, 3, 100, 120)
    losses = model.loss(images, samples)
    assert all(torch.isfinite(v) for v in losses.values())
    model.eval()
    out = model.predict(images, samples)
    # predictions go back to original pixels: half the input frame
    assert (out[0].pred_boxes_fused[:, 2] <= 60 + 1e-4).all()
    with pytest.raises(ValueError, match='inputs'):
        model.predict(None, samples)


def test_train_and_test_through_the_runner(synthground_root, tmp_path):
    """A few iterations on the 40-image SynthGround with the tiny region cache: the hook
    switches the regression on, the metric reports every box set, protocol and threshold."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from .reir_tiny import DATA_PREFIX, write_reir_cache

    tiny = write_reir_cache(synthground_root, str(tmp_path / 'cache'))
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadRegionFeatures', cache_dir=tiny['cache_dir']),
        dict(type='LoadGroundingAnnotations'),
        dict(type='PackGroundingInputs'),
    ]
    train_pipeline = [
        dict(type='LoadGroundingAnnotations'),
        dict(type='LoadRegionFeatures', cache_dir=tiny['cache_dir']),
        dict(
            type='PackGroundingInputs',
            meta_keys=(
                'img_id',
                'caption',
                'phrase_texts',
                'phrase_types',
                'phrase_spans',
                'height',
                'width',
            ),
        ),
    ]

    def loader(split, pipeline):
        return dict(
            batch_size=8,
            num_workers=0,
            sampler=dict(type='DefaultSampler', shuffle=split == 'train'),
            dataset=dict(
                type='Flickr30kEntitiesDataset',
                data_root=synthground_root,
                ann_file=f'flickr30k_entities/{split}.txt',
                data_prefix=DATA_PREFIX,
                test_mode=split != 'train',
                pipeline=pipeline,
            ),
        )

    model = tiny_reir_cfg(
        tiny['vocab_file'],
        class_names=None,
        cache_dir=tiny['cache_dir'],
        feature_dim=None,
        relation_classifier=dict(type='RelationClassifier', hidden_dim=8),
        relation_loss=dict(type='RelationClassificationLoss'),
        relation_vocab_file=tiny['relation_vocab_file'],
        regression_switch=0.0,
    )
    cfg = Config(
        dict(
            default_scope='mmgrounding',
            model=model,
            work_dir=str(tmp_path / 'work'),
            train_dataloader=loader('train', train_pipeline),
            test_dataloader=loader('test', test_pipeline),
            train_cfg=dict(type='IterBasedTrainLoop', max_iters=4),
            test_cfg=dict(type='TestLoop'),
            test_evaluator=[dict(type='ReIRBoxMetric'), dict(type='BoxRecallMetric', topk=(1,))],
            optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-3)),
            custom_hooks=[
                dict(
                    type='LossWeightStaircaseHook',
                    attribute='regression_switch',
                    step_size=2,
                    max_weight=1,
                )
            ],
            default_hooks=dict(
                logger=dict(type='LoggerHook', interval=1),
                checkpoint=dict(type='CheckpointHook', interval=100),
            ),
            randomness=dict(seed=0),
            log_level='WARNING',
        )
    )
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.model.regression_switch == 1.0  # iterations 2 and 3
    metrics = runner.test()
    for box_set in ('stage1', 'stage2', 'fused'):
        for protocol in ('any', 'union'):
            key = f'reir/{box_set}/{protocol}'
            accs = [metrics[f'{key}/acc@{t}'] for t in (0.5, 0.6, 0.7, 0.8)]
            assert accs == sorted(accs, reverse=True)  # a stricter IoU never scores higher
            assert 0 <= metrics[f'{key}/miou'] <= 100
    # the top-ranked box is the fused answer
    assert metrics['box_recall/R@1'] == pytest.approx(metrics['reir/fused/any/acc@0.5'])
