# A diagnostic, not a method: the reranked negatives without the substitutes that name an
# object of the image or share the noun's lemma (found with the image's object labels, which
# weakly supervised training must not use). It asks whether false negatives are what keeps
# L_lang from helping on SynthGround (docs/methods/infoground.md).
#   python tools/analysis_tools/negatives_in_image.py \
#       data/synthground/infoground/negatives_reranked_train.json \
#       --objects data/synthground/vg/objects.json \
#       --out data/synthground/infoground/negatives_reranked-oracle_train.json
#   python tools/cache_word_features.py <this config> \
#       --negatives data/synthground/infoground/negatives_reranked-oracle_train.json \
#       --out data/synthground/infoground/words_reranked-oracle_train/
_base_ = ['./infoground_mlm-tiny_1xb50-400it_synthground-reranked.py']

word_cache = 'data/synthground/infoground/words_reranked-oracle_train/'
train_pipeline = [
    dict(type='LoadRegionFeatures', cache_dir={{_base_.region_cache}},
         topk={{_base_.num_regions}}),
    dict(type='LoadWordFeatures', cache_dir=word_cache),
    dict(type='PackGroundingInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
