# CAM-WSVG at paper scale on Flickr30k Entities (paper test 61.78; Table 3-5 column).
# Interpretation (the paper gives no schedule): TransVG's recipe, 8 GPUs x 8, 90 epochs, AdamW
# 1e-4 (visual and text encoders 1e-5), lr / 10 at epoch 60, 640 px. The self-taught targets
# are the proposals of a Visual Genome detector in a region cache (tools/extract_proposals.py;
# docs/methods/camwsvg.md), 2048-d features, the best 50 boxes of each image.
_base_ = [
    '../_base_/models/camwsvg_r50.py',
    '../_base_/datasets/flickr30k.py',
    '../_base_/default_runtime.py',
]

data_root = 'data/flickr30k/'
region_cache = data_root + 'regions/faster-rcnn_vg/'
image_size = (640, 640)
num_regions = 50

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadGroundingAnnotations'),
    dict(type='LoadRegionFeatures', cache_dir=region_cache, topk=num_regions),
    dict(type='Resize', scale=image_size, keep_ratio=False),
    dict(type='PackGroundingInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadRegionFeatures', cache_dir=region_cache, topk=num_regions),
    dict(type='Resize', scale=image_size, keep_ratio=False),
    dict(type='LoadGroundingAnnotations'),
    dict(type='PackGroundingInputs'),
]
train_dataloader = dict(batch_size=8, num_workers=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, num_workers=4, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=8, num_workers=4, dataset=dict(pipeline=test_pipeline))
val_evaluator = [
    dict(type='BoxRecallMetric', topk=(1,), strict_iou=True),
    dict(type='PointingGameMetric', source='box'),
]
test_evaluator = val_evaluator

custom_hooks = [
    dict(
        type='LossWeightStaircaseHook', attribute='regression_switch', step_size=5000, max_weight=1
    )
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
    paramwise_cfg=dict(
        custom_keys={
            'visual_encoder.backbone': dict(lr_mult=0.1),
            'text_encoder': dict(lr_mult=0.1),
        }
    ),
    clip_grad=dict(max_norm=0.1),
)
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[60], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=90, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=2))
auto_scale_lr = dict(base_batch_size=64, enable=False)
randomness = dict(seed=0)
