# A small Faster R-CNN trained from scratch by mmdet on SynthGround's Visual Genome objects:
# the stand-in for the bottom-up attention detector (Faster R-CNN on Visual Genome) whose
# proposals and region features InfoGround, CKD, ReIR and CAM-WSVG use. ResNet-18 at half
# width (32 base channels) at 128 px, a 32-channel FPN on strides 4-32 and a 256-d box head,
# so that 10 epochs train in about 10 minutes on one CPU core (OMP_NUM_THREADS=1; on a
# shared 2-core machine one thread is faster than two). `make detector` trains and tests it,
# `make proposals` writes its region cache (docs/proposals.md).
_base_ = ['../_base_/datasets/synthground_vg_detection.py', '../_base_/default_runtime.py']

model = dict(
    type='FasterRCNN',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=32),
    backbone=dict(
        type='ResNet',
        depth=18,
        base_channels=32,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,  # trained from scratch: BN statistics must be learnt
        style='pytorch',
        init_cfg=None),
    neck=dict(type='FPN', in_channels=[32, 64, 128, 256], out_channels=32, num_outs=4),
    rpn_head=dict(
        type='RPNHead',
        in_channels=32,
        feat_channels=32,
        # anchors of 12-96 px on strides 4-32 (objects are 8-50 px at 128 px)
        anchor_generator=dict(
            type='AnchorGenerator', scales=[3], ratios=[0.5, 1.0, 2.0], strides=[4, 8, 16, 32]),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder', target_means=[.0, .0, .0, .0],
            target_stds=[1.0, 1.0, 1.0, 1.0]),
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
        loss_bbox=dict(type='L1Loss', loss_weight=1.0)),
    roi_head=dict(
        type='StandardRoIHead',
        bbox_roi_extractor=dict(
            type='SingleRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=0),
            out_channels=32,
            featmap_strides=[4, 8, 16, 32]),
        bbox_head=dict(
            type='Shared2FCBBoxHead',
            in_channels=32,
            fc_out_channels=256,  # the region feature dimension of the cache
            roi_feat_size=7,
            num_classes=60,  # the default build's categories (v1 detector config: 9)
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.],
                target_stds=[0.1, 0.1, 0.2, 0.2]),
            reg_class_agnostic=False,
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
            loss_bbox=dict(type='L1Loss', loss_weight=1.0))),
    train_cfg=dict(
        rpn=dict(
            assigner=dict(
                type='MaxIoUAssigner', pos_iou_thr=0.7, neg_iou_thr=0.3, min_pos_iou=0.3,
                match_low_quality=True, ignore_iof_thr=-1),
            sampler=dict(
                type='RandomSampler', num=256, pos_fraction=0.5, neg_pos_ub=-1,
                add_gt_as_proposals=False),
            allowed_border=-1,
            pos_weight=-1,
            debug=False),
        rpn_proposal=dict(
            nms_pre=1000, max_per_img=500, nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
        rcnn=dict(
            assigner=dict(
                type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.5, min_pos_iou=0.5,
                match_low_quality=False, ignore_iof_thr=-1),
            # at most 6 objects an image: 64 sampled RoIs are plenty
            sampler=dict(
                type='RandomSampler', num=64, pos_fraction=0.25, neg_pos_ub=-1,
                add_gt_as_proposals=True),
            pos_weight=-1,
            debug=False)),
    test_cfg=dict(
        rpn=dict(
            nms_pre=1000, max_per_img=300, nms=dict(type='nms', iou_threshold=0.7),
            min_bbox_size=0),
        rcnn=dict(score_thr=0.05, nms=dict(type='nms', iou_threshold=0.5), max_per_img=100)))

max_epochs = 10
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=300),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[7, 9],
         gamma=0.1),
]

# mmdet's detection visualisation instead of the grounding heatmaps of default_runtime
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=2, max_keep_ckpts=1),
    visualization=dict(_delete_=True, type='DetVisualizationHook'))
visualizer = dict(_delete_=True, type='DetLocalVisualizer', vis_backends=[
    dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')], name='visualizer')
randomness = dict(seed=0)
auto_scale_lr = dict(base_batch_size=8, enable=False)
