# Table 2, row 4 ("+ TSD + STR"): two stages and self-taught regression.
_base_ = ['./reir_lstm_1xb32-1200it_synthground.py']
model = dict(object_graph=None, relation_classifier=None, relation_loss=None)
