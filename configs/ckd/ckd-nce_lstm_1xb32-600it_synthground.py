# Table 4 "NCE": L_IS only, no distillation.
_base_ = ['./ckd-nce-distill_lstm_1xb32-600it_synthground.py']

model = dict(region_phrase_loss=None)
custom_hooks = []
