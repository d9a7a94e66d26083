# The ReferIt column of the leaderboard on a v1 SynthGround build (`--preset v1`), which
# writes one referring-expression file, in the RefCOCO (unc) format, and no refclef or
# Berkeley files: it is read with ReferItGameDataset (the refclef reader). The unc file has no
# 'test' split, so test reads val. A v2 build (the default) has a ReferIt split of its own:
# synthground_referit_v2.py.
_base_ = ['./synthground_refcoco.py']

dataset = dict(type='ReferItGameDataset', data_prefix=dict(img='images/'))
train_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dict(dataset, split='val'))
