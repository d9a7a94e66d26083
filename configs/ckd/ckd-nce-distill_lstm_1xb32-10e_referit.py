# CKD, NCE + Distill at paper scale on ReferItGame (Berkeley split): the Flickr30k config
# (bottom-up attention features in a region cache, b = 1, schedule) with the ReferItGame data
# of configs/_base_/datasets/referit.py. Paper: R@1 38.39; Table 4 NCE+Distill 27.59.
# The vocabulary is Flickr30k's (the 13k most frequent words, as the paper shares it), built
# as the Flickr30k config says; the teacher is an Open Images detector's second cache.
_base_ = ['./ckd-nce-distill_lstm_1xb32-10e_flickr30k.py']

data_root = 'data/referit/'
region_cache = data_root + 'regions/bottom-up/'
teacher_cache = data_root + 'regions/openimages/'
num_regions = 30  # the pipelines below are rebuilt for the new cache, so set here too

model = dict(cache_dir=region_cache, teacher_cache_dir=teacher_cache, stats_topk=num_regions)

train_pipeline = [
    dict(type='LoadGroundingAnnotations'),
    dict(type='LoadRegionFeatures', cache_dir=region_cache, topk=num_regions),
    dict(type='LoadTeacherClassProbs', cache_dir=teacher_cache, iou_thr=0.5),
    dict(type='PackGroundingInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),  # for the image size only (pointing metric)
    dict(type='LoadRegionFeatures', cache_dir=region_cache, topk=num_regions),
    dict(type='LoadGroundingAnnotations'),
    dict(type='PackGroundingInputs'),
]
# as in configs/_base_/datasets/referit.py; _delete_ drops the Flickr30k dataset fields
dataset = dict(
    type='ReferItGameDataset',
    data_root=data_root,
    ann_file='refclef/instances.json',
    refs_file='refclef/refs(berkeley).p',
    data_prefix=dict(img='saiapr_tc-12/'),
)
train_dataloader = dict(
    dataset=dict(dataset, _delete_=True, split='train', pipeline=train_pipeline)
)
val_dataloader = dict(
    dataset=dict(dataset, _delete_=True, split='val', test_mode=True, pipeline=test_pipeline)
)
test_dataloader = dict(
    dataset=dict(dataset, _delete_=True, split='test', test_mode=True, pipeline=test_pipeline)
)
