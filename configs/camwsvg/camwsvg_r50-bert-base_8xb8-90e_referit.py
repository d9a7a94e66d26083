# CAM-WSVG at paper scale on ReferItGame (berkeley split; paper test 45.27).
# The shared recipe: ./camwsvg_r50-bert-base_8xb8-90e_paper.py.
_base_ = ['../_base_/datasets/referit.py', './camwsvg_r50-bert-base_8xb8-90e_paper.py']

data_root = 'data/referit/'
region_cache = data_root + 'regions/faster-rcnn_vg/'
image_size = {{_base_.image_size}}
num_regions = {{_base_.num_regions}}

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadGroundingAnnotations'),
    dict(type='LoadRegionFeatures', cache_dir=region_cache, topk=num_regions),
    dict(type='Resize', scale=image_size, keep_ratio=False),
    dict(type='PackGroundingInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadRegionFeatures', cache_dir=region_cache, topk=num_regions),
    dict(type='Resize', scale=image_size, keep_ratio=False),
    dict(type='LoadGroundingAnnotations'),
    dict(type='PackGroundingInputs'),
]
train_dataloader = dict(batch_size=8, num_workers=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, num_workers=4, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=8, num_workers=4, dataset=dict(pipeline=test_pipeline))
# top-1 accuracy at IoU > 0.5 (the paper's strict threshold), pointing from the box centre
val_evaluator = [
    dict(type='BoxRecallMetric', topk=(1,), strict_iou=True),
    dict(type='PointingGameMetric', source='box'),
]
test_evaluator = val_evaluator
