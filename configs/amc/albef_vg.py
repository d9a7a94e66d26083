# AMC at paper scale (Yang et al., CVPR 2023, Sec. 4): ALBEF-base fine-tuned from the official
# ALBEF checkpoint on Visual Genome object and region boxes, 20 epochs, AdamW lr 1e-5 (weight
# decay 0.02, as the official code), batch 512 on 8 GPUs (64 each); horizontal flip (swapping
# left/right in the text), colour jitter and grayscale. Evaluated with the pointing game on
# Flickr30k Entities test; RefCOCO+ testA/testB and ReferIt through
# tools/analysis_tools/leaderboard.py --layout papers.
#
#   python tools/model_converters/albef_to_mmgrounding.py ALBEF.pth checkpoints/albef_mmg.pth
#   tools/dist_train.sh configs/amc/albef_vg.py 8
#
# Expected folders (docs/datasets.md): data/vg/ (VG images and JSON), data/flickr30k/,
# data/bert-base-uncased/ (a local save_pretrained folder: tokenizer and text config).
# ALBEF fine-tuning crops at random; AMC's triplets carry a box that a crop can cut off, so
# images are resized to 256 x 256 without cropping, as the AMC training transform does.
_base_ = [
    '../_base_/models/albef_base.py', '../_base_/datasets/flickr30k.py',
    '../_base_/default_runtime.py'
]

image_size = (256, 256)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadGroundingAnnotations'),
    dict(type='Resize', scale=image_size, keep_ratio=False),
    dict(type='RandomFlipWithText', prob=0.5),
    # the official AMC training transform (dataset/__init__.py, albumentations): ColorJitter
    # (brightness, contrast, saturation, hue 0.4; p=0.5), ToGray(p=0.2); its HorizontalFlip
    # keeps the text, ours swaps left/right (mmdet's RandomFlip would flip without the swap)
    dict(
        type='GroundingColorJitter',
        brightness=0.4,
        contrast=0.4,
        saturation=0.4,
        hue=0.4,
        prob=0.5,
    ),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True),
    dict(type='PackGroundingInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=False),
    dict(type='LoadGroundingAnnotations'),
    dict(type='PackGroundingInputs'),
]
train_dataloader = dict(
    _delete_=True,
    batch_size=64,  # x 8 GPUs = 512
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='VisualGenomeTripletDataset',
        data_root='data/vg/',
        ann_file='',  # the VG folder itself (image_data.json, objects.json, ...)
        data_prefix=dict(img=''),
        sources=('objects', 'regions'),  # AMC Table 5: boxes and regions together
        min_box_area_frac=0.08,
        pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=8, dataset=dict(pipeline=test_pipeline))
# The official training code's Grad-CAM and L_mean (docs/methods/amc.md, "Normalisation and
# pooling"): maps min-max normalised per sample, L_mean's means pooled over the batch before
# its hinge. The paper's numbers come from that code.
# The official ALBEF code's details (docs/methods/amc.md, "Official ALBEF details"): the
# distillation weight ramped over the first epoch, attention-probability dropout in the fusion
# layers, phrases truncated to 25 tokens at evaluation.
model = dict(
    explainer=dict(normalize='minmax'),
    amc_loss=dict(type='AMCLoss', mean_pooling='batch'),
    fusion=dict(attention_dropout=True),
    distill_alpha_ramp='epoch',
    # the official training tokenises with max_length=25 too (AMC Pretrain.py)
    max_text_length=25,
    max_text_length_test=25)
# the official evaluation: the map upsampled bicubically to the image, a hit strictly inside
val_evaluator = [dict(type='PointingGameMetric', protocol='amc_official')]
test_evaluator = val_evaluator

load_from = 'checkpoints/albef_mmg.pth'
max_epochs = 20
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# The official optimiser (AMC configs/Pretrain.yaml: {opt: adamW, lr: 1e-5, weight_decay:
# 0.02}, built by timm's create_optimizer): AdamW, weight decay 0.02 except on 1-d parameters
# and biases (timm's add_weight_decay; ALBEF defines no no_weight_decay list, so the ViT's
# cls_token and pos_embed and the 0-d temperature are decayed).
# fused=True: torch's one-pass kernel (CPU and CUDA), the same update up to float rounding
# (docs/get_started.md, the ALBEF-base step)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-5, weight_decay=0.02, fused=True),
    # bypass_duplicate: the MLM decoder shares its weight and bias with the word embeddings
    # and the prediction head (tied as in BERT); paramwise groups would list them twice
    paramwise_cfg=dict(
        norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0, bypass_duplicate=True
    ),
)
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs)]
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2, save_best='auto'))
auto_scale_lr = dict(base_batch_size=512, enable=False)
