# Visual Genome as AMC training triplets (image, prompt, box): object + attribute prompts,
# spatial prompts and region descriptions, boxes covering >= 8% of the image; training only
# (evaluate on Flickr30k Entities / RefCOCO). See docs/datasets.md. To start faster, write
# the triplets once with tools/dataset_converters/vg_to_triplets.py and set
# ann_file='triplets.json'.
_base_ = ['./image_text_pairs.py']

dataset_type = 'VisualGenomeTripletDataset'
data_root = 'data/vg/'

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='',  # the VG folder itself (image_data.json, objects.json, ...)
        data_prefix=dict(img=''),  # + VG_100K/ or VG_100K_2/ from each image's url
        sources=('objects', 'regions'),  # AMC Table 5: ('objects', ), ('regions', ), both
        min_box_area_frac=0.08))
