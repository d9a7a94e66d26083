# InfoGround at paper scale, Fig. 4's key/value depth ablation: the four MLPs (k_r, v_r, q_w,
# v_w) with 0 hidden layers (the official KLayer/FLayer layers=1; the default, one
# hidden layer, is infoground_bert-base_1xb50-10e_coco-flickr30k.py).
_base_ = ['./infoground_bert-base_1xb50-10e_coco-flickr30k.py']

model = dict(attention=dict(num_hidden=0))
