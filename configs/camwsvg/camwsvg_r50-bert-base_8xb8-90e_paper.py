# What the paper-scale CAM-WSVG configs (camwsvg_r50-bert-base_8xb8-90e_<dataset>.py) share.
# The self-taught targets are the proposals of a Visual Genome detector in a region
# cache (tools/extract_proposals.py; docs/methods/camwsvg.md), 2048-d features, the best
# 50 boxes of each image. The recipe and runtime:
# ../_base_/schedules/camwsvg_transvg_90e.py.
# A dataset config adds its dataset base and what hangs on its data_root (the region cache,
# hence the pipelines); its dataloaders and evaluators stay there too, since mmengine allows
# no key in two sibling bases and the dataset base sets them.
_base_ = [
    '../_base_/models/camwsvg_r50.py',
    '../_base_/schedules/camwsvg_transvg_90e.py',
]

image_size = (640, 640)
num_regions = 50
