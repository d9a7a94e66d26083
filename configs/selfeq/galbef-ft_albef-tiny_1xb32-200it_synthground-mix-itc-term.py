# gALBEF fine-tuned with ITM's match logit anchored to ITC (`itm_itc_term=True`), as the SelfEQ
# fine-tune configs/selfeq/selfeq-ft_albef-tiny_1xb32-200it_synthground-mix-itc-term.py: the
# same checkpoint, schedule, data and ITM, without the paraphrase branch. What the two differ
# by is SelfEQ's; what this one gains over galbef-ft_... is the ITM term's.
_base_ = ['./galbef-ft_albef-tiny_1xb32-200it_synthground-mix.py']

model = dict(itm_itc_term=True)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=dict(itm_fused_proj=dict(lr_mult=10.0))))
