# InfoGround on SynthGround, Table 2's "random negatives" row: as the reranked config, with the
# negatives of `tools/generate_negatives.py --mode random` and their cached word features.
#   python tools/generate_negatives.py data/synthground/infoground/mlm --mode random \
#       --captions data/synthground/coco/annotations/captions_train.json \
#       --out data/synthground/infoground/negatives_random_train.json
#   python tools/cache_word_features.py <this config> \
#       --negatives data/synthground/infoground/negatives_random_train.json \
#       --out data/synthground/infoground/words_random_train/
_base_ = ['./infoground_mlm-tiny_1xb50-400it_synthground-reranked.py']

word_cache = 'data/synthground/infoground/words_random_train/'
train_pipeline = [
    dict(type='LoadRegionFeatures', cache_dir={{_base_.region_cache}},
         topk={{_base_.num_regions}}),
    dict(type='LoadWordFeatures', cache_dir=word_cache),
    dict(type='PackGroundingInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
