# Table 4: visual levels F3 only, one attention layer per level.
_base_ = './camwsvg_r18-tiny_1xb16-1500it_synthground.py'
model = dict(visual_encoder=dict(levels=(3,)), fusion=dict(num_layers=1))
