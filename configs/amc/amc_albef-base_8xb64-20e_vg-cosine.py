# AMC Table 6, 1 - cos(A, M) of the map and the box mask (weight 1): as albef_vg.py, whose loss is
# both terms (0.2 L_mean + 0.8 L_max, margins 0.1 and 0.5).
_base_ = ['./albef_vg.py']

model = dict(amc_loss=dict(variant='cosine'))
