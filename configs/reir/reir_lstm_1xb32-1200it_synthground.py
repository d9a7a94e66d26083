# ReIR, the full model (Table 2's last row, K = 5) on SynthGround: the cached regions of the
# SynthGround Faster R-CNN (the Visual Genome stand-in: 256-d features, 9 shape classes, its
# best M = 50 boxes), the WordNet label prior, evaluated on the Flickr30k Entities-format test
# split. The cached path: RoI features are not re-pooled at the refined boxes (only their
# geometry is re-embedded); docs/methods/reir.md.
# Before training (once):
#   python tools/build_relation_vocab.py configs/_base_/datasets/synthground_flickr30k.py \
#       --out data/synthground/reir/relation_vocab.txt --min-count 100 \
#       --word-vocab-out data/synthground/reir/caption_vocab.txt
_base_ = [
    '../_base_/models/reir.py',
    '../_base_/datasets/synthground_flickr30k.py',
    '../_base_/default_runtime.py',
]

data_root = 'data/synthground/'
region_cache = data_root + 'regions/faster-rcnn_r18-c32_fpn_1xb8-10e_synthground-vg/'
num_regions = 50  # M
dim = 256
max_iters = 1200
# the paper's switch at 7.5k of 80k iterations (9.4%), scaled to this schedule
reg_start = 120

model = dict(
    phrase_encoder=dict(
        vocab_file=data_root + 'reir/caption_vocab.txt', embed_dim=128, hidden_dim=dim
    ),
    region_embedder=dict(in_dim=256, out_dim=dim),
    matching_head=dict(hidden_dim=128),
    phrase_decoder=dict(embed_dim=128, hidden_dim=dim),
    relation_classifier=dict(hidden_dim=dim),
    relation_vocab_file=data_root + 'reir/relation_vocab.txt',
    rank_dim=128,
    cache_dir=region_cache,
    stats_topk=num_regions,
)
custom_hooks = [
    dict(
        type='LossWeightStaircaseHook',
        attribute='regression_switch',
        step_size=reg_start,
        max_weight=1,
    )
]

# training reads region features only; the image size comes from the annotation
train_pipeline = [
    dict(type='LoadGroundingAnnotations'),
    dict(type='LoadRegionFeatures', cache_dir=region_cache, topk=num_regions),
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
# region boxes and ground truth stay in original image pixels
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadRegionFeatures', cache_dir=region_cache, topk=num_regions),
    dict(type='LoadGroundingAnnotations'),
    dict(type='PackGroundingInputs'),
]
train_dataloader = dict(
    batch_size=32, num_workers=1, drop_last=True, dataset=dict(pipeline=train_pipeline)
)
val_dataloader = dict(batch_size=32, num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=32, num_workers=1, dataset=dict(pipeline=test_pipeline))
val_evaluator = [
    dict(type='ReIRBoxMetric'),
    dict(type='BoxRecallMetric', topk=(1, 5), protocol='union'),
    dict(type='PointingGameMetric', source='box'),
]
test_evaluator = val_evaluator
# the leaderboard's benchmark splits report ReIR's box sets beside their own metrics
benchmark_metrics = [dict(type='ReIRBoxMetric')]

# Adam 1e-3 instead of the paper's SGD (1e-3, momentum 0.9, 80k iterations) for a
# 1200-iteration schedule, chosen on val (docs/methods/reir.md); lr / 10 at 40% and 50% of
# the schedule, as the paper's 32k and 40k of 80k
optim_wrapper = dict(_delete_=True, type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [dict(type='MultiStepLR', by_epoch=False, milestones=[480, 600], gamma=0.1)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(by_epoch=False, interval=max_iters, max_keep_ckpts=1),
    visualization=dict(draw=False),
)
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
