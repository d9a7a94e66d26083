# SelfEQ at paper scale (He et al., CVPR 2024): ALBEF-base from the ALBEF-14M checkpoint,
# trained without boxes on Visual Genome region and object phrases and COCO captions, each
# with a paraphrase; AdamW lr 1e-5, weight decay 0.02, cosine to 1e-6 after a linear warmup
# from 1e-6 (the official Pretrain_vg.yaml: 1000 iterations), 256 px, batch 56 per GPU on 8.
# Evaluated with the pointing game on Flickr30k Entities test (RefCOCO+ and ReferIt through
# tools/analysis_tools/leaderboard.py --layout papers).
#
#   python tools/model_converters/albef_to_mmgrounding.py ALBEF.pth checkpoints/albef_mmg.pth
#   python tools/generate_paraphrases.py \
#       --config configs/selfeq/selfeq_albef-base_8xb56-30e_vg-coco.py \
#       --lm data/vicuna-13b --out data/selfeq/paraphrases_vicuna.json   # or WordNet: no --lm
#   tools/dist_train.sh configs/selfeq/selfeq_albef-base_8xb56-30e_vg-coco.py 8
#
# Interpretations (docs/methods/selfeq.md): the official code trains VG and COCO as two
# separate models and runs the paraphrase objective in its first epoch only; here both
# sources are one mixed training set and every step has the branch.
_base_ = [
    '../_base_/models/albef_base.py',
    '../_base_/datasets/flickr30k.py',
    '../_base_/default_runtime.py',
]

image_size = (256, 256)
paraphrases_file = 'data/selfeq/paraphrases_wordnet.json'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=False),
    dict(type='RandomFlipWithText', prob=0.5),
    dict(type='GroundingColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True),
    dict(type='LoadParaphrases', paraphrases_file=paraphrases_file),
    dict(
        type='PackGroundingInputs',
        meta_keys=(
            'img_id',
            'img_path',
            'ori_shape',
            'img_shape',
            'scale_factor',
            'flip',
            'flip_direction',
            'caption',
            'caption_id',
            'paraphrase',
        ),
    ),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=False),
    dict(type='LoadGroundingAnnotations'),
    dict(type='PackGroundingInputs'),
]
model = dict(
    type='SelfEQGrounder',
    amc_loss=None,
    explainer=dict(normalize='minmax'),
    self_consistency_loss=dict(
        type='SelfConsistencyLoss',
        k=0.8,
        weight_sim=1.0,
        weight_cst=0.5,
        pooling='batch',
        std_over='masked_map',
    ),
    max_text_length=25,  # the official tokenizer call, in training and evaluation
    max_text_length_test=25,
    fusion=dict(attention_dropout=True),  # ALBEF's BERT drops attention probabilities
    distill_alpha_ramp='epoch',  # the official ramp of alpha over the first epoch
)
vg = dict(
    type='VisualGenomeTripletDataset',
    data_root='data/vg/',
    ann_file='',
    data_prefix=dict(img=''),
    sources=('objects', 'regions'),
    min_box_area_frac=0.08,  # AMC's prompts; the boxes themselves are never loaded
    pipeline=train_pipeline,
)
coco = dict(
    type='CocoCaptionsDataset',
    data_root='data/coco/',
    ann_file='annotations/captions_train2014.json',
    data_prefix=dict(img='train2014/'),
    pipeline=train_pipeline,
)
train_dataloader = dict(
    _delete_=True,
    batch_size=56,  # x 8 GPUs
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='ConcatDataset', datasets=[vg, coco], ignore_keys=['dataset_name']),
)
val_dataloader = dict(batch_size=8, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=8, dataset=dict(pipeline=test_pipeline))
val_evaluator = [dict(type='PointingGameMetric')]
test_evaluator = val_evaluator

load_from = 'checkpoints/albef_mmg.pth'
max_epochs = 30
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# fused=True: torch's one-pass kernel (CPU and CUDA), the same update up to float rounding
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-5, weight_decay=0.02, fused=True)
)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=1000),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs, eta_min=1e-6),
]
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=2, save_best='auto'))
auto_scale_lr = dict(base_batch_size=448, enable=False)
