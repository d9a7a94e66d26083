# COCO captions (2014 release) as image-caption pairs for weakly supervised training: no
# boxes (phrases=[]); evaluate on a grounding dataset. See docs/datasets.md. For the 2017
# release use ann_file='annotations/captions_train2017.json', img='train2017/'.
_base_ = ['./image_text_pairs.py']

dataset_type = 'CocoCaptionsDataset'
data_root = 'data/coco/'

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/captions_train2014.json',
        data_prefix=dict(img='train2014/'),
        group_by_image=False))  # True: one item per image with all of its captions
