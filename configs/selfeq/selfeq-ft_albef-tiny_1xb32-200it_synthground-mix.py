# SelfEQ on SynthGround with the paper's protocol: fine-tune a trained ALBEF (here the gALBEF
# demo model, configs/amc/galbef_albef-tiny_1xb32-900it_synthground-mix.py, 900 steps, seed 0:
# the registry's `galbef` seed 0) with the paraphrase branch for 200 steps, box-free.
# Its baseline is configs/selfeq/galbef-ft_albef-tiny_1xb32-200it_synthground-mix.py: the same
# checkpoint, schedule and data without the branch. Both schedules are set here and there
# alike (tests/test_models/test_selfeq_configs.py compares them).
# load_from: the registry trains (or reuses) that checkpoint first (`init_from` of the
# `selfeq-ft` experiment, mmgrounding/apis/leaderboard_entries/selfeq.py); by hand:
#   python tools/train.py configs/amc/galbef_albef-tiny_1xb32-900it_synthground-mix.py \
#       --work-dir work_dirs/leaderboard/galbef/seed0
_base_ = ['./selfeq_albef-tiny_1xb32-900it_synthground-mix.py']

load_from = 'work_dirs/leaderboard/galbef/seed0/iter_900.pth'
max_iters = 200
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
# a fine-tune: a fifth of the pretraining's peak lr, a short warmup, cosine to the same floor
optim_wrapper = dict(optimizer=dict(lr=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=max_iters, eta_min=1e-5),
]
default_hooks = dict(checkpoint=dict(interval=max_iters))
