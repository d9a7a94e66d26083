# The best single-proposal baseline of the proposal-based methods (InfoGround, CKD): every
# phrase gets the SynthGround detector's boxes ranked by detection score.
_base_ = ['../_base_/datasets/synthground_flickr30k.py', '../_base_/default_runtime.py']

data_root = 'data/synthground/'
region_cache = data_root + 'regions/faster-rcnn_r18-c32_fpn_1xb8-10e_synthground-vg/'
num_regions = 30

model = dict(type='DetectorScoreBaselineGrounder')

# the image is read only for its size (the pointing metric); region boxes stay in original
# image pixels, where predictions are reported
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadRegionFeatures', cache_dir=region_cache, topk=num_regions),
    dict(type='LoadGroundingAnnotations'),
    dict(type='PackGroundingInputs'),
]
val_dataloader = dict(batch_size=32, num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=32, num_workers=1, dataset=dict(pipeline=test_pipeline))

# A fixed baseline: evaluated only.
train_dataloader = None
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
