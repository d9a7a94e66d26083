# RefCOCO+ (UNC refer refcoco+.zip; COCO train2014 images), one sample per sentence; see
# docs/datasets.md. test is testA; evaluate testB with
# --cfg-options test_dataloader.dataset.split=testB
dataset_type = 'RefCOCODataset'
data_root = 'data/refcoco+/'
ann_file = 'instances.json'
refs_file = 'refs(unc).p'
data_prefix = dict(img='../coco/train2014/')

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadGroundingAnnotations'),
    dict(type='Resize', scale=(384, 384), keep_ratio=False),
    dict(type='PackGroundingInputs'),
]
# Ground truth is loaded after Resize so it stays in original image coordinates, where the
# models report their predictions.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(384, 384), keep_ratio=False),
    dict(type='LoadGroundingAnnotations'),
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
        ann_file=ann_file,
        refs_file=refs_file,
        split='train',
        data_prefix=data_prefix,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=ann_file,
        refs_file=refs_file,
        split='val',
        data_prefix=data_prefix,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(val_dataloader, dataset=dict(val_dataloader['dataset'], split='testA'))

val_evaluator = [
    dict(type='PointingGameMetric'),
    dict(type='BoxRecallMetric', topk=(1, 5, 10)),
]
test_evaluator = val_evaluator
