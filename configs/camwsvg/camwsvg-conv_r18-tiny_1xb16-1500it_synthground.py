# Table 5: three attention layers, their [REG] outputs merged by a 1x1 convolution.
_base_ = './camwsvg_r18-tiny_1xb16-1500it_synthground.py'
model = dict(fusion=dict(merge='conv'))
