# RefCOCOg, umd split (UNC refer refcocog.zip; COCO train2014 images), one sample per
# sentence; see docs/datasets.md. For the google split (train and val only) set
# refs_file='refs(google).p' and evaluate on val.
_base_ = ['./refcoco+.py']

data_root = 'data/refcocog/'
refs_file = 'refs(umd).p'
train_dataloader = dict(dataset=dict(data_root=data_root, refs_file=refs_file))
val_dataloader = dict(dataset=dict(data_root=data_root, refs_file=refs_file))
test_dataloader = dict(dataset=dict(data_root=data_root, refs_file=refs_file, split='test'))
