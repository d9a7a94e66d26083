# SynthGround's Flickr30k Entities sentences as image-caption pairs (markup stripped, no
# boxes) for weakly supervised training; evaluate with synthground_flickr30k.py. Other
# splits: ann_file='flickr30k_entities/val.txt' or '.../test.txt'.
dataset_type = 'Flickr30kCaptionsDataset'
data_root = 'data/synthground/'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadGroundingAnnotations'),
    dict(type='Resize', scale=(128, 128), keep_ratio=False),
    dict(type='RandomFlipWithText', prob=0.5),
    dict(type='PackGroundingInputs'),
]

train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='flickr30k_entities/train.txt',
        data_prefix=dict(img='images/', sentences='flickr30k_entities/Sentences/'),
        group_by_image=False,  # True: one item per image with all of its captions
        pipeline=train_pipeline))
