# Table 3, K = 3: the full model with the top 3 boxes in stage 2.
_base_ = ['./reir_lstm_1xb32-1200it_synthground.py']
model = dict(topk=3)
