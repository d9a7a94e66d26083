# AMC (box-supervised) fine-tuned like SelfEQ
# (configs/selfeq/selfeq-ft_albef-tiny_1xb32-200it_synthground-mix.py): gALBEF's fine-tune
# (the same trained gALBEF checkpoint, the same 200 steps, schedule and data) plus the AMC
# loss on the VG boxes. The reference beside the two box-free fine-tunes: what the same budget
# gives when the maps are told where the object is.
_base_ = ['./galbef-ft_albef-tiny_1xb32-200it_synthground-mix.py']

model = dict(amc_loss=dict(_delete_=True, type='AMCLoss'))
