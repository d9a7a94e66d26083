# SynthGround's Visual Genome objects as COCO instances, for training an mmdet detector (the
# stand-in for the Visual Genome detector of the grounding papers). The files are written by
# tools/dataset_converters/vg_to_coco_instances.py (`make detector` does it) with the
# Flickr30k Entities split files, so no val/test image is seen in training.
_base_ = ['./synthground_v2_categories.py']

dataset_type = 'CocoDataset'
data_root = 'data/synthground/'
# the default (v2) build's 60 categories (the shared list); the v1 detector config
# faster-rcnn_r18-c32_fpn_1xb8-10e_synthground-v1-vg.py has the 9 shapes of a `--preset v1` build
metainfo = dict(classes=tuple(_base_.synthground_classes))
image_scale = (128, 128)  # SynthGround images are 120-192 px a side; boxes sized at 128

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='detection/instances_train.json',
        data_prefix=dict(img=''),  # file names are 'images/<id>.jpg'
        filter_cfg=dict(filter_empty_gt=True, min_size=4),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='detection/instances_val.json',
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='detection/instances_test.json',
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=test_pipeline))

val_evaluator = dict(
    type='CocoMetric', ann_file=data_root + 'detection/instances_val.json', metric='bbox')
test_evaluator = dict(
    type='CocoMetric', ann_file=data_root + 'detection/instances_test.json', metric='bbox')
