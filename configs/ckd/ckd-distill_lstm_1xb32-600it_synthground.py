# Table 4 "Distill": L_RP only (λ = 1 throughout; there is no L_IS to warm up first).
_base_ = ['./ckd-nce-distill_lstm_1xb32-600it_synthground.py']

model = dict(image_sentence_loss=None, distill_weight=1.0)
custom_hooks = []
