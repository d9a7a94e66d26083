# The SynthGround detector of faster-rcnn_r18-c32_fpn_1xb8-10e_synthground-vg.py for a
# `--preset v1` build: its 9 shape classes (meta.json['categories'] of that build) instead of
# the default build's 60 pictograms. `make proposals PRESET=v1` trains and uses it; its region
# cache keeps the default detector's folder name, so the grounding configs read either.
_base_ = ['./faster-rcnn_r18-c32_fpn_1xb8-10e_synthground-vg.py']

metainfo = dict(classes=('circle', 'oval', 'heart', 'square', 'triangle', 'diamond', 'hexagon',
                         'star', 'cross'))
train_dataloader = dict(dataset=dict(metainfo=metainfo))
val_dataloader = dict(dataset=dict(metainfo=metainfo))
test_dataloader = dict(dataset=dict(metainfo=metainfo))
model = dict(roi_head=dict(bbox_head=dict(num_classes=9)))
