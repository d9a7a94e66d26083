# The SelfEQ fine-tune with in-vocabulary WordNet synonyms only (no hypernyms): the
# paraphrases keep the referent ("small" -> "little", "large" -> "big", "picture" -> "image";
# about half of the texts have one, the others train without the branch). Make them with
#   python tools/generate_paraphrases.py \
#       --config configs/selfeq/selfeq_albef-tiny_1xb32-900it_synthground-mix.py \
#       --in-vocabulary --no-hypernyms \
#       --out data/synthground/selfeq/paraphrases_wordnet_synonyms_in-vocabulary.json
_base_ = ['./selfeq-ft_albef-tiny_1xb32-200it_synthground-mix.py']

paraphrases_file = 'data/synthground/selfeq/paraphrases_wordnet_synonyms_in-vocabulary.json'
image_size = (64, 64)
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
data_root = 'data/synthground/'
vg_triplets = dict(
    type='VisualGenomeTripletDataset',
    data_root=data_root,
    ann_file='vg',
    data_prefix=dict(img=''),
    image_ids_file='flickr30k_entities/train.txt',
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
train_dataloader = dict(dataset=dict(datasets=[vg_triplets, captions]))
