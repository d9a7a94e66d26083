# Table 3, second row: the CAM encoder without attention mining.
_base_ = './camwsvg_r18-tiny_1xb16-1500it_synthground.py'
model = dict(attention_mining_loss=None)
