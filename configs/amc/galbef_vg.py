# gALBEF (AMC paper, Table 1: 79.14 on Flickr30k): Grad-CAM of ALBEF without AMC. Test the
# converted official checkpoint as it is:
#   tools/test.py configs/amc/galbef_vg.py checkpoints/albef_mmg.pth
# or train it like albef_vg.py without the AMC loss (the fine-tuning-only ablation).
_base_ = ['./albef_vg.py']

model = dict(amc_loss=None)
