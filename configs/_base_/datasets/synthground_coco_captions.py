# SynthGround's COCO captions as image-caption pairs for weakly supervised training (no
# boxes); evaluate with synthground_flickr30k.py or synthground_refcoco.py. Other splits:
# ann_file='coco/annotations/captions_val.json' or '..._test.json'.
_base_ = ['./coco_captions.py']

data_root = 'data/synthground/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadGroundingAnnotations'),
    dict(type='Resize', scale=(128, 128), keep_ratio=False),
    dict(type='RandomFlipWithText', prob=0.5),
    dict(type='PackGroundingInputs'),
]
train_dataloader = dict(
    num_workers=2,
    dataset=dict(
        data_root=data_root,
        ann_file='coco/annotations/captions_train.json',
        data_prefix=dict(img='images/'),
        pipeline=train_pipeline))
