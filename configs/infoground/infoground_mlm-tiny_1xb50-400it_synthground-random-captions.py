# InfoGround on SynthGround, Table 2's "random" row drawn as the paper and the official
# sampler draw it: each negative is a noun of a random caption of another image, placed in
# the positive caption (the official code reads it in its own caption: a difference kept,
# docs/methods/infoground.md) (tools/generate_negatives.py --mode random_captions). The sibling
# ...-random.py draws the candidate vocabulary uniformly instead (ours).
#   python tools/generate_negatives.py data/synthground/infoground/mlm --mode random_captions \
#       --captions data/synthground/coco/annotations/captions_train.json \
#       --out data/synthground/infoground/negatives_random_captions_train.json
#   python tools/cache_word_features.py <this config> \
#       --negatives data/synthground/infoground/negatives_random_captions_train.json \
#       --out data/synthground/infoground/words_random_captions_train/
_base_ = ['./infoground_mlm-tiny_1xb50-400it_synthground-reranked.py']

word_cache = 'data/synthground/infoground/words_random_captions_train/'
train_pipeline = [
    dict(type='LoadRegionFeatures', cache_dir={{_base_.region_cache}}, topk={{_base_.num_regions}}),
    dict(type='LoadWordFeatures', cache_dir=word_cache),
    dict(type='PackGroundingInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
