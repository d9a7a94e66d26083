# SynthGround v2's own ReferItGame split (build_synthground(preset='v2'), see
# docs/synthground.md "v2 preset"), in the RefCLEF (UNC refer) files, read by
# ReferItGameDataset: refs(berkeley).p has train, val and test, over images of its own
# (ids from 2000001) that no other SynthGround format uses. One sample per sentence.
# synthground_referit_v2_berkeley.py reads the same split from the Berkeley query files.
_base_ = ['./synthground_refcoco.py']

data_root = 'data/synthground_v2/'
dataset = dict(
    type='ReferItGameDataset',
    data_root=data_root,
    ann_file='referit/refclef/instances.json',
    refs_file='referit/refclef/refs(berkeley).p',
    data_prefix=dict(img='referit/images/'),
)
train_dataloader = dict(dataset=dict(dataset, split='train'))
val_dataloader = dict(dataset=dict(dataset, split='val'))
test_dataloader = dict(dataset=dict(dataset, split='test'))
