# COCO captions (2014 release) as image-caption pairs for weakly supervised training: no
# boxes (phrases=[]); evaluate on a grounding dataset. See docs/datasets.md. For the 2017
# release use ann_file='annotations/captions_train2017.json', img='train2017/'.
dataset_type = 'CocoCaptionsDataset'
data_root = 'data/coco/'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadGroundingAnnotations'),
    dict(type='Resize', scale=(384, 384), keep_ratio=False),
    dict(type='RandomFlipWithText', prob=0.5),
    dict(type='PackGroundingInputs'),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/captions_train2014.json',
        data_prefix=dict(img='train2014/'),
        group_by_image=False,  # True: one item per image with all of its captions
        pipeline=train_pipeline))
