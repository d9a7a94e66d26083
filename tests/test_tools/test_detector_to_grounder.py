"""The detector -> region cache -> grounder chain once end to end on the 40-image SynthGround:
a tiny randomly initialised mmdet Faster R-CNN writes a region cache with
tools/extract_proposals.py (train, val and test), CKD trains on it through the MMEngine
Runner with the detector's class probabilities distilled, and predicts ranked cached boxes.

A random detector's features carry nothing about the phrases, so this checks the plumbing by
value, not learning (the learning tests use meaningful features, tests/learning.py): the
loss of a fixed training batch falls (a little: 20 steps on random features); every
prediction is a ranking of the image's cached boxes, in original pixels; and Recall@K
with K = every cached box equals the proposal recall of the cache computed straight from
its entries and the annotations (a ranking cannot change it).
"""

import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmgrounding.datasets import RegionCache
from mmgrounding.evaluation.functional.proposal_recall import proposal_recall_hits
from tests.test_models.ckd_tiny import DATA_PREFIX, build_categories, flickr_dataset, tiny_ckd_cfg
from tests.test_models.detector_tiny import FEATURE_DIM, write_tiny_detector

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATASET = 'configs/_base_/datasets/synthground_flickr30k.py'
TOPK = 8


def extract_tool():
    spec = importlib.util.spec_from_file_location(
        'extract_proposals', osp.join(REPO, 'tools', 'extract_proposals.py')
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def loader(root, split, pipeline, *, shuffle=False):
    return dict(
        batch_size=8,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=shuffle),
        dataset=dict(
            type='Flickr30kEntitiesDataset',
            data_root=root,
            ann_file=f'flickr30k_entities/{split}.txt',
            data_prefix=DATA_PREFIX,
            test_mode=split != 'train',
            pipeline=pipeline,
        ),
    )


def test_tiny_detector_cache_trains_and_feeds_ckd(synthground_root, tmp_path):
    from mmgrounding.text import build_word_vocab, write_word_vocab

    config, checkpoint = write_tiny_detector(str(tmp_path))
    cache_dir = str(tmp_path / 'cache')
    summary = extract_tool().main(
        [
            config,
            checkpoint,
            '--dataset',
            osp.join(REPO, DATASET),
            '--data-root',
            synthground_root,
            '--out',
            cache_dir,
            '--topk',
            str(TOPK),
            '--splits',
            'train',
            'val',
            'test',
            '--num-workers',
            '0',
        ]
    )
    cache = RegionCache(cache_dir)
    assert summary['written'] == len(cache.image_ids()) > 0
    vocab = str(tmp_path / 'phrases.txt')
    train = flickr_dataset(synthground_root, 'train')
    phrases = [p['text'] for i in range(len(train)) for p in train.get_data_info(i)['phrases']]
    write_word_vocab(build_word_vocab(phrases), vocab)

    train_pipeline = [
        dict(type='LoadGroundingAnnotations'),
        dict(type='LoadRegionFeatures', cache_dir=cache_dir, with_class_probs=True),
        dict(type='PackGroundingInputs'),
    ]
    test_pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadRegionFeatures', cache_dir=cache_dir),
        dict(type='LoadGroundingAnnotations'),
        dict(type='PackGroundingInputs'),
    ]
    iters = 20
    cfg = Config(
        dict(
            default_scope='mmgrounding',
            # class names and feature statistics from the cache the detector wrote
            model=tiny_ckd_cfg(
                vocab,
                class_names=None,
                cache_dir=cache_dir,
                region_branch=dict(
                    type='EmbeddingBranch', in_dim=FEATURE_DIM, hidden_dims=(16,), out_dim=12
                ),
            ),
            work_dir=str(tmp_path / 'work'),
            train_dataloader=loader(synthground_root, 'train', train_pipeline, shuffle=True),
            test_dataloader=loader(synthground_root, 'test', test_pipeline),
            train_cfg=dict(type='IterBasedTrainLoop', max_iters=iters),
            test_cfg=dict(type='TestLoop'),
            test_evaluator=[dict(type='BoxRecallMetric', topk=(1, TOPK))],
            optim_wrapper=dict(optimizer=dict(type='Adam', lr=3e-3)),
            log_level='WARNING',
            default_hooks=dict(
                logger=dict(type='LoggerHook', interval=10),
                checkpoint=dict(type='CheckpointHook', interval=1000),
            ),
            log_processor=dict(window_size=1),
            randomness=dict(seed=0),
        )
    )
    runner = Runner.from_cfg(cfg)
    # the detector's classes (the build's categories), from the cache's meta.json
    assert runner.model.class_names == build_categories(synthground_root)
    # the loss of one fixed training batch of cached features, before and after training
    batch = runner.train_dataloader.collate_fn(
        [runner.train_dataloader.dataset[i] for i in range(8)]
    )

    def batch_loss():
        with torch.no_grad():
            data = runner.model.data_preprocessor(batch, True)
            return float(sum(runner.model.loss(data.get('inputs'), data['data_samples']).values()))

    before = batch_loss()
    runner.train()
    after = batch_loss()
    assert after < before, (before, after)  # measured: 4.258 -> 4.163 (seed 0)

    metrics = runner.test()
    # predictions: rankings of each image's cached boxes
    model = runner.model.eval()
    dataset = runner.test_dataloader.dataset
    hits, total = 0, 0
    for index in range(len(dataset)):
        data = runner.test_dataloader.collate_fn([dataset[index]])
        sample = model.test_step(data)[0]
        entry = cache.read(sample.metainfo['img_id'])
        boxes = torch.from_numpy(entry['boxes_xyxy'])
        for ranked in sample.pred_boxes:
            assert sorted(map(tuple, ranked.tolist())) == sorted(map(tuple, boxes.tolist()))
        # proposal recall of the cache per phrase: a box of the phrase covered at IoU >= 0.5
        # by some cached box; phrases without a box count as misses, as in BoxRecallMetric
        gt_boxes, phrase_index = sample.gt_instances.bboxes, sample.gt_instances.labels
        for p in range(len(sample.pred_boxes)):
            covered = proposal_recall_hits(boxes, gt_boxes[phrase_index == p], (TOPK,))
            hits += bool(covered.any())
            total += 1
    assert total > 0
    assert metrics[f'box_recall/R@{TOPK}'] == pytest.approx(100 * hits / total)
