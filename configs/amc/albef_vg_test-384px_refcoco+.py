# AMC evaluated on RefCOCO+ testA (testB: --cfg-options test_dataloader.dataset.split=testB)
# as the paper does: images at 384 x 384 (a 24 x 24 Grad-CAM grid; the ViT interpolates its
# position embedding) and the official pointing rule (the map upsampled bicubically to the
# image, first maximum, strictly inside the box). Tests a checkpoint of albef_vg.py, which
# evaluates Flickr30k Entities at 256 px itself:
#   python tools/test.py configs/amc/albef_vg_test-384px_refcoco+.py CHECKPOINT
_base_ = ['./albef_vg.py']

image_size = (384, 384)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    # the official test transform: torchvision Resize((384, 384), BICUBIC) of a PIL image
    dict(
        type='Resize', scale=image_size, keep_ratio=False, interpolation='bicubic', backend='pillow'
    ),
    dict(type='LoadGroundingAnnotations'),
    dict(type='PackGroundingInputs'),
]
test_dataloader = dict(
    _delete_=True,
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='RefCOCODataset',
        data_root='data/refcoco+/',
        ann_file='instances.json',
        refs_file='refs(unc).p',
        split='testA',
        data_prefix=dict(img='../coco/train2014/'),
        test_mode=True,
        pipeline=test_pipeline,
    ),
)
test_evaluator = [dict(type='PointingGameMetric', protocol='amc_official')]
