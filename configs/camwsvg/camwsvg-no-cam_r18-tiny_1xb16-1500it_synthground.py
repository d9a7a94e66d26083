# Table 3, first row: no CAM encoder and no attention mining (visual + text tokens only).
_base_ = './camwsvg_r18-tiny_1xb16-1500it_synthground.py'
model = dict(classifier=None, explainer=None, cam_encoder=None, attention_mining_loss=None)
