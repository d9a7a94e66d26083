# CKD, NCE + Distill at paper scale on ReferItGame (Berkeley split), bottom-up attention
# features in a region cache. Paper: R@1 38.39; Table 4 NCE+Distill 27.59.
# Before training:
#   python tools/build_phrase_vocab.py configs/_base_/datasets/referit.py \
#       --out data/referit/ckd/phrase_vocab.txt
_base_ = [
    '../_base_/models/ckd.py', '../_base_/datasets/referit.py',
    '../_base_/default_runtime.py'
]

data_root = 'data/referit/'
region_cache = data_root + 'regions/bottom-up/'
num_regions = 100

model = dict(
    phrase_encoder=dict(vocab_file=data_root + 'ckd/phrase_vocab.txt'),
    region_branch=dict(in_dim=2048),
    cache_dir=region_cache,
    stats_topk=num_regions)
# Visual Genome features: b = 1 (b = 3 for features of a detector of other classes)
custom_hooks = [
    dict(type='LossWeightStaircaseHook', attribute='distill_weight', step_size=200, max_weight=1)
]

train_pipeline = [
    dict(type='LoadGroundingAnnotations'),
    dict(type='LoadRegionFeatures', cache_dir=region_cache, topk=num_regions,
         with_class_probs=True),
    dict(type='PackGroundingInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),  # for the image size only (pointing metric)
    dict(type='LoadRegionFeatures', cache_dir=region_cache, topk=num_regions),
    dict(type='LoadGroundingAnnotations'),
    dict(type='PackGroundingInputs'),
]
train_dataloader = dict(batch_size=32, num_workers=4, drop_last=True,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=32, num_workers=4, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=32, num_workers=4, dataset=dict(pipeline=test_pipeline))
val_evaluator = [dict(type='PointingGameMetric'), dict(type='BoxRecallMetric', topk=(1, 5, 10))]
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2, save_best='box_recall/R@1'),
                     visualization=dict(draw=False))
randomness = dict(seed=0)
