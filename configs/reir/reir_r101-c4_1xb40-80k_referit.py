# ReIR at paper scale on ReferItGame (paper test: Acc 37.68, PointIt 58.96), the online path of
# configs/_base_/models/reir_r101-c4.py.
# Each expression is one phrase: no relation edges, so the graph and the relation classifier
# have nothing to do (kept for the same recipe).
# Before training:
#   python tools/build_relation_vocab.py configs/_base_/datasets/referit.py \
#       --out data/referit/reir/relation_vocab.txt \
#       --word-vocab-out data/referit/reir/caption_vocab.txt
_base_ = ['../_base_/datasets/referit.py', './reir_r101-c4_1xb40-80k_paper.py']

data_root = 'data/referit/'
region_cache = data_root + 'regions/bottom-up/'
glove_file = data_root + 'glove/glove.840B.300d.txt'
num_regions = {{_base_.num_regions}}  # M

model = dict(
    phrase_encoder=dict(vocab_file=data_root + 'reir/caption_vocab.txt', glove_file=glove_file),
    label_prior=dict(glove_file=glove_file, vocab_file=data_root + 'reir/caption_vocab.txt'),
    relation_vocab_file=data_root + 'reir/relation_vocab.txt',
    cache_dir=region_cache,
)

# boxes follow the image into the input frame; predictions go back with scale_factor
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadGroundingAnnotations'),
    dict(type='Resize', scale=(1000, 600), keep_ratio=True),
    dict(type='LoadRegionFeatures', cache_dir=region_cache, topk=num_regions),
    dict(type='PackGroundingInputs', meta_keys={{_base_.reir_meta_keys}}),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1000, 600), keep_ratio=True),
    dict(type='LoadRegionFeatures', cache_dir=region_cache, topk=num_regions),
    dict(type='LoadGroundingAnnotations'),  # after Resize: ground truth in original pixels
    dict(type='PackGroundingInputs', meta_keys={{_base_.reir_meta_keys}}),
]
train_dataloader = dict(
    batch_size=40, num_workers=4, drop_last=True, dataset=dict(pipeline=train_pipeline)
)
val_dataloader = dict(batch_size=8, num_workers=4, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=8, num_workers=4, dataset=dict(pipeline=test_pipeline))
val_evaluator = [
    # ReIR's official union box and IoU > t (flickr30k_evaluation_grounding.py; docs/formats.md)
    dict(type='ReIRBoxMetric', official=True),
    dict(type='BoxRecallMetric', topk=(1, 5), protocol='union'),
    # ReIR's pointing: the centre of the top box inside the union box, borders included
    dict(type='PointingGameMetric', protocol='reir'),
]
test_evaluator = val_evaluator
