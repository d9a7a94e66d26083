# Table 2, row 5 ("+ TSD + VOGN & RC"): two stages, the visual object graph and relation
# classification, without regression.
_base_ = ['./reir_lstm_1xb32-1200it_synthground.py']
model = dict(regression_loss=None)
custom_hooks = []
