# AMC Table 5, "regions only": as albef_vg.py (objects and regions), trained on the Visual
# Genome region descriptions alone.
_base_ = ['./albef_vg.py']

train_dataloader = dict(dataset=dict(sources=('regions',)))
