# InfoGround at paper scale, Table 1's Flickr30k-trained row: as the COCO-trained config, but
# trained on the Flickr30k Entities train captions (captions only: no box is read), with
# negatives drawn from Flickr30k captions. Flickr30k captions have no annotation ids: the
# dataset gives each caption the global id int(image_id) * 100 + line, which the caches and
# the converter below share.
#   python tools/dataset_converters/flickr30k_to_coco_captions.py data/flickr30k \
#       --split train --out data/flickr30k/annotations/captions_train.json
#   python tools/generate_negatives.py data/bert-base-uncased \
#       --captions data/flickr30k/annotations/captions_train.json \
#       --out data/flickr30k/infoground/negatives_reranked_train.json
#   python tools/cache_word_features.py configs/infoground/<this file> \
#       --negatives data/flickr30k/infoground/negatives_reranked_train.json \
#       --out data/flickr30k/infoground/words_bert-base_reranked_train/
# Paper (Flickr30k Entities test, Flickr30k-trained): see docs/methods/infoground.md.
_base_ = ['./infoground_bert-base_1xb50-10e_coco-flickr30k.py']

flickr_regions = 'data/flickr30k/regions/bottom-up/'
word_cache = 'data/flickr30k/infoground/words_bert-base_reranked_train/'
train_pipeline = [
    dict(type='LoadRegionFeatures', cache_dir=flickr_regions, topk={{_base_.num_regions}}),
    dict(type='LoadWordFeatures', cache_dir=word_cache),
    dict(type='PackGroundingInputs'),
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='Flickr30kEntitiesDataset',
        data_root='data/flickr30k/',
        ann_file='flickr30k_entities/train.txt',
        data_prefix=dict(
            img='flickr30k-images/',
            annotations='flickr30k_entities/Annotations/',
            sentences='flickr30k_entities/Sentences/',
        ),
        caption_ids='global',
        pipeline=train_pipeline,
    )
)
