# The SynthGround stand-in for CAM-WSVG's ImageNet classifier: a small mmdet ResNet-18
# (base width 8, no stem max pooling so a 14 px shape keeps 7 px; global max pooling; Grad-CAM
# grid 8x8 at 128 px) trained by tools/train_cam_classifier.py on image-level labels, the
# classes named by the head nouns of each image's caption phrases (multi-label, sigmoid BCE,
# positives weighted by negatives/positives; flips, 8 px shifts, colour-channel permutations;
# cosine lr over 30 epochs; the best val-F1 epoch kept). The file name keeps "20e" and "b16"
# so the grounder configs' checkpoint path stays. Its
# classes are the default build's (v2) 60 category nouns, matched by name (NounClassMapper
# match='name': a phrase naming its object by a synonym or a hypernym, "a cab", "the animal",
# labels no class; WordNet hyponymy would label every animal for "the animal"). On a v1 build
# (`--preset v1`) the classes were its nine shape nouns.
#   python tools/train_cam_classifier.py configs/camwsvg/cam-classifier_r18_1xb32-20e_synthground.py
_base_ = [
    '../_base_/datasets/synthground_flickr30k.py',
    '../_base_/datasets/synthground_v2_categories.py',
]

class_names = _base_.synthground_classes  # the default build's (v2) 60 categories
class_match = 'name'
model = dict(
    type='CAMClassifier',
    backbone=dict(
        type='ResNet', depth=18, base_channels=8, out_indices=(3,), norm_cfg=dict(type='BN')
    ),
    in_channels=64,
    pool='max',
    stem_pool=False,
    num_classes=len(class_names),
    class_names=class_names,
    frozen=False,
)
data_preprocessor = dict(
    type='DetDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
)
classifier_train = dict(
    epochs=30,
    batch_size=32,
    lr=3e-3,
    weight_decay=1e-4,
    seed=0,
    pos_weight='balanced',
    flip=True,
    shift=8,
    permute_channels=True,
)
out_file = 'data/synthground/camwsvg/cam-classifier_r18-b16.pth'
explainer = dict(type='ConvGradCAMExplainer', target_layer='backbone.layer4')
