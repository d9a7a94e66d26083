# InfoGround on SynthGround, "no negatives" row (L_img only), with the image loss swapped for
# the example plugin's focal variant: (1 - p)^gamma * L_img per token (gamma = 0: L_img).
# The plugin lives outside mmgrounding; put its folder on the path and train from the repo root:
#   PYTHONPATH=projects/example_plugin python tools/train.py \
#       projects/example_plugin/configs/infoground_focal-img_synthground.py
# Inputs as for the base config (make infoground-inputs; docs/methods/infoground.md).
_base_ = [
    '../../../configs/infoground/infoground_mlm-tiny_1xb50-400it_synthground-no-negatives.py'
]

# imports example_plugin/__init__.py, which registers FocalInfoGroundImageLoss in
# mmgrounding's MODELS registry; a failed import is an error, not a silent skip
custom_imports = dict(imports=['example_plugin'], allow_failed_imports=False)

model = dict(image_loss=dict(_delete_=True, type='FocalInfoGroundImageLoss', gamma=2.0))
