# The SelfEQ fine-tune with ITM's match logit anchored to ITC (`itm_itc_term=True`): the match
# logit that Grad-CAM explains gets the cosine between the text's ITC feature and a projection
# of the fusion output, so its gradient on the cross-attention is each image token's
# similarity with the text, and the maps SelfEQ makes consistent depend on the phrase (with the
# ITM head alone they do not here: ITM stays at chance, docs/methods/selfeq.md). The new
# projection starts from random in the gALBEF checkpoint: it trains at 10x the lr.
# Its baseline: configs/selfeq/galbef-ft_albef-tiny_1xb32-200it_synthground-mix-itc-term.py.
_base_ = ['./selfeq-ft_albef-tiny_1xb32-200it_synthground-mix.py']

model = dict(itm_itc_term=True)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys=dict(itm_fused_proj=dict(lr_mult=10.0))))
