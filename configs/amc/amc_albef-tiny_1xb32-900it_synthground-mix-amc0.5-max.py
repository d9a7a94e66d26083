_base_ = ['./amc_albef-tiny_1xb32-900it_synthground-mix.py']

# total = ITC + ITM + 0.5 L_amc (the base's mlm=0.0 is kept: dicts merge), L_amc = L_max only
model = dict(loss_weights=dict(amc=0.5), amc_loss=dict(variant='max'))
