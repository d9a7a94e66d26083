# ReferItGame (RefCLEF, UNC refer refclef.zip; saiapr_tc-12 images), berkeley split, one
# sample per sentence. docs/datasets.md shows how to read the Berkeley JSON files
# (ReferItBerkeleyDataset) instead.
_base_ = ['./refcoco+.py']

dataset = dict(
    type='ReferItGameDataset',
    data_root='data/referit/',
    ann_file='refclef/instances.json',
    refs_file='refclef/refs(berkeley).p',
    data_prefix=dict(img='saiapr_tc-12/'))
train_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dict(dataset, split='test'))
