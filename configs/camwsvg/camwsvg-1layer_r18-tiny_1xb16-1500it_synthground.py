# Table 5: one attention layer over the visual tokens of all three levels.
_base_ = './camwsvg_r18-tiny_1xb16-1500it_synthground.py'
model = dict(fusion=dict(num_layers=1))
