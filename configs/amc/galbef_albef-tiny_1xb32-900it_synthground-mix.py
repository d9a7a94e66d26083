# gALBEF for `make demo`: the AMC demo model and schedule without the AMC loss; its Grad-CAM
# maps are computed the same way (the paper's baseline, Flickr30k 79.14 vs AMC 86.59).
_base_ = ['./amc_albef-tiny_1xb32-900it_synthground-mix.py']

model = dict(amc_loss=None)
