# AMC Table 6 on SynthGround, 1 - cos(A, M) (weight 1): as amc_albef-tiny_1xb32-900it_synthground-
# mix.py (0.2 L_mean + 0.8 L_max).
_base_ = ['./amc_albef-tiny_1xb32-900it_synthground-mix.py']

model = dict(amc_loss=dict(variant='cosine'))
