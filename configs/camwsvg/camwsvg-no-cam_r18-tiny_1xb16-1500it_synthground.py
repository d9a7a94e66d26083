# Table 3, first row: no CAM encoder and no attention mining (visual + text tokens only).
_base_ = './camwsvg_r18-tiny_1xb16-1500it_synthground.py'
model = dict(classifier=None, explainer=None, cam_encoder=None, attention_mining_loss=None)
val_evaluator = [
    dict(type='BoxRecallMetric', topk=(1,), strict_iou=True),
    dict(type='PointingGameMetric', source='box'),
]
test_evaluator = val_evaluator
benchmark_metrics = [
    dict(type='BoxRecallMetric', topk=(1,), strict_iou=True, prefix='camwsvg_box'),
    dict(type='PointingGameMetric', source='box', per_type=False, prefix='camwsvg_pointing'),
]
