_base_ = ['../_base_/datasets/synthground_flickr30k.py', '../_base_/default_runtime.py']

model = dict(
    type='CentreBaselineGrounder',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True))

# A fixed baseline: evaluated only.
train_dataloader = None
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
