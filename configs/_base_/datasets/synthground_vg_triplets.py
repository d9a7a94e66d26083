# SynthGround's Visual Genome files as AMC training triplets (see vg_triplets.py); training
# only, evaluate with synthground_flickr30k.py or synthground_refcoco.py.
dataset_type = 'VisualGenomeTripletDataset'
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
        ann_file='vg/',
        data_prefix=dict(img=''),  # image_data.json urls are 'images/<id>.jpg'
        sources=('objects', 'regions'),
        min_box_area_frac=0.08,
        pipeline=train_pipeline))
