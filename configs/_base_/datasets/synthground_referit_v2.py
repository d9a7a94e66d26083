# SynthGround's own ReferItGame split (the default build, preset v2; docs/synthground.md
# "v2 preset"), in the RefCLEF (UNC refer) files, read by ReferItGameDataset:
# refs(berkeley).p has train, val and test, over images of its own (ids from 2000001) that no
# other SynthGround format uses. One sample per sentence. The leaderboard's ReferIt column on
# a build that has this split. synthground_referit_v2_berkeley.py reads the same split from
# the Berkeley query files; a v1 build has none (synthground_referit.py is its stand-in).
_base_ = ['./synthground_refcoco.py']

dataset = dict(
    type='ReferItGameDataset',
    ann_file='referit/refclef/instances.json',
    refs_file='referit/refclef/refs(berkeley).p',
    data_prefix=dict(img='referit/images/'),
)
train_dataloader = dict(dataset=dict(dataset, split='train'))
val_dataloader = dict(dataset=dict(dataset, split='val'))
test_dataloader = dict(dataset=dict(dataset, split='test'))
