# SynthGround in the ReferIt layout of the leaderboard. SynthGround writes one
# referring-expression file, in the RefCOCO (unc) format, and no refclef or Berkeley files:
# the ReferIt column reads it with ReferItGameDataset (the refclef reader). The unc file has no
# 'test' split, so test reads val.
_base_ = ['./synthground_refcoco.py']

dataset = dict(type='ReferItGameDataset', data_prefix=dict(img='images/'))
train_dataloader = dict(dataset=dataset)
val_dataloader = dict(dataset=dataset)
test_dataloader = dict(dataset=dict(dataset, split='val'))
