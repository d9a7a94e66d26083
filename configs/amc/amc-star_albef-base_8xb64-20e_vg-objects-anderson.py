# AMC* (the paper's comparison on the data of earlier work): Visual Genome objects only, on
# the image split of Anderson et al. (bottom-up attention), given as a file of VG image ids
# (one per line, relative to data/vg/). The evaluation images of Flickr30k Entities and
# RefCOCO/+/g stay excluded (exclude_eval_images, on by default).
_base_ = ['./albef_vg.py']

train_dataloader = dict(
    dataset=dict(sources=('objects',), image_ids_file='anderson_train_image_ids.txt')
)
