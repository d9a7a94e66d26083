# Table 2, row 1 ("baseline"): coarse matching only, without regression; L_rec + L_rank.
_base_ = ['./reir_lstm_1xb32-1200it_synthground.py']
model = dict(
    two_stage=False,
    regression_loss=None,
    object_graph=None,
    relation_classifier=None,
    relation_loss=None,
)
custom_hooks = []
