# InfoGround at paper scale: trained on COCO captions (2014 train) with 30 proposals of a
# Visual Genome Faster R-CNN (2048-d bottom-up features imported into region caches with
# tools/dataset_converters/bottom_up_h5_to_region_cache.py), evaluated on Flickr30k Entities.
# Paper (Flickr30k Entities test): R@1 51.67, R@5 77.69, R@10 83.25, pointing 76.74.
# Before training (docs/methods/infoground.md):
#   python tools/generate_negatives.py data/bert-base-uncased \
#       --captions data/coco/annotations/captions_train2014.json \
#       --out data/coco/infoground/negatives_reranked_train2014.json
#   python tools/cache_word_features.py configs/infoground/<this file> \
#       --negatives data/coco/infoground/negatives_reranked_train2014.json \
#       --out data/coco/infoground/words_bert-base_reranked_train2014/
# The schedule (10 epochs) is ours; the paper gives batch 50 and Adam with lr 1e-5.
# Paper protocol (docs/methods/infoground.md, "Differences from the paper"): L_lang on one
# random noun per caption, the substitutes through the word MLPs in a batch of their own,
# L_img averaged per caption; evaluated with the official pointing rule (top box centre
# strictly inside a box) and R@k at IoU >= 0.5.
_base_ = [
    '../_base_/models/infoground.py',
    '../_base_/datasets/flickr30k.py',
    '../_base_/default_runtime.py',
]

coco_regions = 'data/coco/regions/bottom-up/'
flickr_regions = 'data/flickr30k/regions/bottom-up/'
word_cache = 'data/coco/infoground/words_bert-base_reranked_train2014/'
num_regions = 30
model = dict(
    lang_words='one_per_caption',
    substitute_projection='separate',
    image_loss=dict(type='InfoGroundImageLoss', reduction='caption_mean'),
)

train_pipeline = [
    dict(type='LoadRegionFeatures', cache_dir=coco_regions, topk=num_regions),
    dict(type='LoadWordFeatures', cache_dir=word_cache),
    dict(type='PackGroundingInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),  # for the image size only (pointing metric)
    dict(type='LoadRegionFeatures', cache_dir=flickr_regions, topk=num_regions),
    dict(type='LoadGroundingAnnotations'),
    dict(type='PackGroundingInputs'),
]
# COCO captions, one item per caption; captions of the same image in a batch are positives
train_dataloader = dict(
    batch_size=50,
    num_workers=4,
    drop_last=True,
    dataset=dict(
        _delete_=True,  # COCO captions instead of the Flickr30k Entities training split
        type='CocoCaptionsDataset',
        data_root='data/coco/',
        ann_file='annotations/captions_train2014.json',
        data_prefix=dict(img='train2014/'),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(batch_size=50, num_workers=4, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=50, num_workers=4, dataset=dict(pipeline=test_pipeline))

val_evaluator = [
    dict(type='PointingGameMetric', protocol='infoground'),
    # InfoGround's compute_iou (inclusive pixel counts) on the official boxes (docs/formats.md)
    dict(type='BoxRecallMetric', topk=(1, 5, 10), iou='pixel_inclusive'),
]
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    checkpoint=dict(interval=1, max_keep_ckpts=2, save_best='pointing/accuracy'),
    visualization=dict(draw=False),
)
randomness = dict(seed=0)
