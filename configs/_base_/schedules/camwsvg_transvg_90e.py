# CAM-WSVG's paper-scale recipe, shared by configs/camwsvg/camwsvg_r50-bert-base_8xb8-90e_*.py.
# Interpretation (the paper gives no schedule): TransVG's, 8 GPUs x 8, 90 epochs, AdamW 1e-4
# (visual and text encoders 1e-5), lr / 10 at epoch 60; L_reg switched on at iteration 5000
# (the self-taught target needs the phrase-proposal attention that L_rec trains first).
_base_ = ['../default_runtime.py']

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
