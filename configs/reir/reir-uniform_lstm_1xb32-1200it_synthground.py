# Table 2, row 6 ("+ TSD + STR + VOGN & RC, uniform ω"): the full model with equal edge
# weights ω_ij = 1 / |N(i)|.
_base_ = ['./reir_lstm_1xb32-1200it_synthground.py']
model = dict(object_graph=dict(edge_weights='uniform'))
