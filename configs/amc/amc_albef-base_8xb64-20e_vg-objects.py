# AMC Table 5, "objects only": as albef_vg.py (objects and regions), trained on the Visual
# Genome object (and spatial) prompts alone.
_base_ = ['./albef_vg.py']

train_dataloader = dict(dataset=dict(sources=('objects',)))
