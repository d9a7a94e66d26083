# Table 2, row 2 ("+ TSD"): two-stage denoising (coarse then fine matching over the top K),
# without regression, graph or relation classification.
_base_ = ['./reir_lstm_1xb32-1200it_synthground.py']
model = dict(regression_loss=None, object_graph=None, relation_classifier=None, relation_loss=None)
custom_hooks = []
