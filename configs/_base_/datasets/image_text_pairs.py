# Training on image-text pairs without an evaluation split of their own (coco_captions.py,
# vg_triplets.py): 384 x 384 images, a flip that also swaps "left"/"right" in the text. A
# dataset base sets dataset_type, data_root and train_dataloader.dataset.
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
    dataset=dict(pipeline=train_pipeline))
