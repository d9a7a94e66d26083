# ReIR's paper-scale online path: a frozen ResNet-101 C4 map (stride 16) pooled by RoIAlign at
# the M = 50 boxes of a Visual Genome detector (a region cache gives boxes and labels) and again
# at the refined top-K boxes of stage 1; the GloVe label prior (the paper's); SGD 1e-3, batch
# 40, 80k iterations, lr / 10 at 32k and 40k; L_reg from 7.5k (models/reir.py).
# Interpretation: ImageNet ResNet-101 weights (torchvision) stand in for the backbone of the
# official detector, which was never released. Dataset configs set the paths and pipelines
# (boxes follow the image into the input frame: region_frame='input').
_base_ = ['./reir.py']

model = dict(
    data_preprocessor=dict(
        _delete_=True,
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=16,
    ),
    region_embedder=dict(in_dim=1024),  # ResNet-101 C4 channels
    roi_extractor=dict(
        type='FrozenC4RoIExtractor',
        backbone=dict(
            type='ResNet',
            depth=101,
            num_stages=3,
            strides=(1, 2, 2),
            dilations=(1, 1, 1),
            out_indices=(2,),
            frozen_stages=3,
            norm_cfg=dict(type='BN', requires_grad=False),
            norm_eval=True,
            style='pytorch',
            init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101'),
        ),
    ),
    region_frame='input',
    label_prior=dict(_delete_=True, type='GloVeLabelPrior', glove_file=None, vocab_file=None),
)

reir_meta_keys = (
    'img_id',
    'img_path',
    'ori_shape',
    'img_shape',
    'scale_factor',
    'flip',
    'flip_direction',
    'caption',
    'phrase_texts',
    'phrase_types',
    'phrase_spans',
)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=80000, val_interval=2500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
