# Flickr30k Entities (see docs/datasets.md for the layout). test split; val: ann_file
# 'flickr30k_entities/val.txt'.
_base_ = ['./synthground_flickr30k.py']

data_root = 'data/flickr30k/'
data_prefix = dict(
    img='flickr30k-images/',
    annotations='flickr30k_entities/Annotations/',
    sentences='flickr30k_entities/Sentences/')
train_dataloader = dict(dataset=dict(data_root=data_root, data_prefix=data_prefix))
val_dataloader = dict(dataset=dict(data_root=data_root, data_prefix=data_prefix))
test_dataloader = dict(dataset=dict(data_root=data_root, data_prefix=data_prefix))
