# Table 4 "Max Margin": the NCE row with the max-margin image-sentence loss (Eq. 7, m = 0.05).
_base_ = ['./ckd-nce_lstm_1xb32-600it_synthground.py']

model = dict(image_sentence_loss=dict(_delete_=True, type='MaxMarginLoss', margin=0.05))
