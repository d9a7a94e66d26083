# Table 2, row 3 ("+ TSD + STR w/o x_q in F_reg"): self-taught regression whose F_reg sees
# the region only.
_base_ = ['./reir_lstm_1xb32-1200it_synthground.py']
model = dict(
    matching_head=dict(reg_uses_phrase=False),
    object_graph=None,
    relation_classifier=None,
    relation_loss=None,
)
