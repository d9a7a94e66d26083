# AMC Table 5 on SynthGround, "regions only": as amc_albef-tiny_1xb32-900it_synthground-mix.py (VG
# triplets of objects and regions, mixed with captions), with the VG triplets of regions alone.
_base_ = ['./amc_albef-tiny_1xb32-900it_synthground-mix.py']

train_dataloader = dict(
    dataset=dict(
        datasets=[
            dict(
                type='VisualGenomeTripletDataset',
                data_root='data/synthground/',
                ann_file='vg',
                data_prefix=dict(img=''),
                image_ids_file='flickr30k_entities/train.txt',
                sources=('regions',),
                min_box_area_frac=0.0,
                pipeline={{_base_.train_pipeline}},
            ),
            dict(
                type='CocoCaptionsDataset',
                data_root='data/synthground/',
                ann_file='coco/annotations/captions_train.json',
                data_prefix=dict(img='images/'),
                pipeline={{_base_.train_pipeline}},
            ),
        ]
    )
)
