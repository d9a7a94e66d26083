# AMC (box-supervised) fine-tuned like SelfEQ
# (configs/selfeq/selfeq-ft_albef-tiny_1xb32-200it_synthground-mix.py): the same trained
# gALBEF checkpoint, the same 200 steps and schedule, ALBEF's losses plus the AMC loss on the
# VG boxes. The reference beside the two box-free fine-tunes: what the same budget gives when
# the maps are told where the object is.
_base_ = ['../amc/amc_albef-tiny_1xb32-900it_synthground-mix.py']

load_from = 'work_dirs/leaderboard/galbef/seed0/iter_900.pth'
max_iters = 200
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=max_iters, eta_min=1e-5),
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
