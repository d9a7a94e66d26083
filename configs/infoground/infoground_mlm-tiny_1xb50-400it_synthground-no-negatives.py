# InfoGround on SynthGround, Table 2's "no negatives" row: L_img only (no L_lang); the word
# features are the reranked cache's caption features, its substitutes are not read.
_base_ = ['./infoground_mlm-tiny_1xb50-400it_synthground-reranked.py']

model = dict(language_loss=None)
train_pipeline = [
    dict(type='LoadRegionFeatures', cache_dir={{_base_.region_cache}},
         topk={{_base_.num_regions}}),
    dict(type='LoadWordFeatures', cache_dir={{_base_.word_cache}}, with_negatives=False),
    dict(type='PackGroundingInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
