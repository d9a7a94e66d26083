# SelfEQ (He et al., CVPR 2024) on SynthGround, box-free: the gALBEF demo model and schedule
# (configs/amc/galbef_albef-tiny_1xb32-900it_synthground-mix.py) plus the paraphrase branch.
# Training texts: SynthGround's VG object and region prompts of the training images and its
# COCO-format captions, no box loaded; each text gets one WordNet paraphrase at load time.
# Make the paraphrases first (docs/methods/selfeq.md):
#   python tools/generate_paraphrases.py \
#       --config configs/selfeq/selfeq_albef-tiny_1xb32-900it_synthground-mix.py \
#       --out data/synthground/selfeq/paraphrases_wordnet.json
_base_ = ['../amc/galbef_albef-tiny_1xb32-900it_synthground-mix.py']

data_root = 'data/synthground/'
paraphrases_file = 'data/synthground/selfeq/paraphrases_wordnet.json'
image_size = (64, 64)
# no LoadGroundingAnnotations: the training samples carry no box
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=False),
    dict(type='LoadParaphrases', paraphrases_file=paraphrases_file),
    dict(
        type='PackGroundingInputs',
        meta_keys=(
            'img_id',
            'img_path',
            'ori_shape',
            'img_shape',
            'scale_factor',
            'caption',
            'caption_id',
            'paraphrase',
        ),
    ),
]
model = dict(
    type='SelfEQGrounder',
    # per-sample min-max maps (the official code's): R = {G + G' >= 0.8} assumes maps in [0, 1]
    explainer=dict(normalize='minmax'),
    self_consistency_loss=dict(type='SelfConsistencyLoss', k=0.8, weight_sim=1.0, weight_cst=0.5),
)
vg_triplets = dict(
    type='VisualGenomeTripletDataset',
    data_root=data_root,
    ann_file='vg',
    data_prefix=dict(img=''),
    image_ids_file='flickr30k_entities/train.txt',  # SynthGround's training images only
    sources=('objects', 'regions'),
    min_box_area_frac=0.0,
    pipeline=train_pipeline,
)
captions = dict(
    type='CocoCaptionsDataset',
    data_root=data_root,
    ann_file='coco/annotations/captions_train.json',
    data_prefix=dict(img='images/'),
    pipeline=train_pipeline,
)
train_dataloader = dict(
    dataset=dict(
        type='ConcatDataset', datasets=[vg_triplets, captions], ignore_keys=['dataset_name']
    )
)
