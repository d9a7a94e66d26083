# AMC on a small ALBEF, trained on SynthGround's Visual Genome triplets (object, spatial and
# region prompts with their boxes) and evaluated with the pointing game on SynthGround's
# Flickr30k Entities test split. `make demo` trains this and its gALBEF sibling.
_base_ = [
    '../_base_/models/albef_tiny.py', '../_base_/datasets/synthground_flickr30k.py',
    '../_base_/default_runtime.py'
]

image_size = (96, 96)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadGroundingAnnotations'),
    dict(type='Resize', scale=image_size, keep_ratio=False),
    dict(type='PackGroundingInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=False),
    dict(type='LoadGroundingAnnotations'),
    dict(type='PackGroundingInputs'),
]
train_dataloader = dict(
    _delete_=True,
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='VisualGenomeTripletDataset',
        data_root='data/synthground/',
        ann_file='vg',
        data_prefix=dict(img=''),
        # VG has no split; keep SynthGround's training images only (no test leakage)
        image_ids_file='flickr30k_entities/train.txt',
        sources=('objects', 'regions'),
        min_box_area_frac=0.0,  # SynthGround's shapes are small; the 8% rule is for VG photos
        pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
val_evaluator = [dict(type='PointingGameMetric')]
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=6, val_interval=6)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='AdamW', lr=3e-4, weight_decay=0.02),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=6, eta_min=1e-5),
]
default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=2, max_keep_ckpts=1))
randomness = dict(seed=0)
auto_scale_lr = dict(base_batch_size=32, enable=False)
