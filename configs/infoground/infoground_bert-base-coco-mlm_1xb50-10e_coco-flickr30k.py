# InfoGround at paper scale, Table 1's fine-tuned-BERT row: as the COCO-trained config, with
# the word encoder (and the language model that makes the negatives) bert-base-uncased
# fine-tuned as a masked LM on the COCO training captions and then frozen. Interpretation:
# the fine-tuning recipe is not given here (tools/train_text_mlm.py trains small LMs from
# scratch); any masked-LM fine-tuning of bert-base-uncased on the captions saved with
# save_pretrained to data/bert-base-uncased-coco-mlm works (docs/methods/infoground.md).
#   python tools/generate_negatives.py data/bert-base-uncased-coco-mlm \
#       --captions data/coco/annotations/captions_train2014.json \
#       --out data/coco/infoground/negatives_reranked-coco-mlm_train2014.json
#   python tools/cache_word_features.py configs/infoground/<this file> \
#       --negatives data/coco/infoground/negatives_reranked-coco-mlm_train2014.json \
#       --out data/coco/infoground/words_bert-base-coco-mlm_reranked_train2014/
_base_ = ['./infoground_bert-base_1xb50-10e_coco-flickr30k.py']

bert = 'data/bert-base-uncased-coco-mlm'
model = dict(
    text_encoder=dict(type='BertTextEncoder', pretrained=bert, num_layers=12),
    tokenizer=dict(name_or_path=bert),
)
word_cache = 'data/coco/infoground/words_bert-base-coco-mlm_reranked_train2014/'
train_pipeline = [
    dict(type='LoadRegionFeatures', cache_dir={{_base_.coco_regions}}, topk={{_base_.num_regions}}),
    dict(type='LoadWordFeatures', cache_dir=word_cache),
    dict(type='PackGroundingInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
