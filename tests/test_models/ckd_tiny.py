"""A tiny CKD grounder and a small region cache of SynthGround for the tests."""
import json
import os.path as osp

import numpy as np

from mmgrounding.datasets import Flickr30kEntitiesDataset, RegionCache
from mmgrounding.text import build_word_vocab, write_word_vocab

# the class names of the tiny grounders that run without a build (any names do)
SHAPES = ['circle', 'oval', 'heart', 'square', 'triangle', 'diamond', 'hexagon', 'star', 'cross']
FEATURE_DIM = 16
NUM_REGIONS = 8
DATA_PREFIX = dict(img='images/', annotations='flickr30k_entities/Annotations/',
                   sentences='flickr30k_entities/Sentences/')


def tiny_ckd_cfg(vocab_file: str, **overrides) -> dict:
    cfg = dict(
        type='CKDGrounder',
        data_preprocessor=dict(type='BaseDataPreprocessor'),
        phrase_encoder=dict(type='LSTMPhraseEncoder', vocab_file=vocab_file, embed_dim=8,
                            hidden_dim=8, num_layers=2),
        region_branch=dict(type='EmbeddingBranch', in_dim=FEATURE_DIM, hidden_dims=(16, ),
                           out_dim=12),
        phrase_branch=dict(type='EmbeddingBranch', in_dim=8, hidden_dims=(16, ), out_dim=12),
        image_sentence_loss=dict(type='ImageSentenceNCELoss', temperature=0.5),
        region_phrase_loss=dict(type='CKDRegionPhraseLoss', temperature=0.5),
        distill_weight=1.0,
        class_names=SHAPES)
    cfg.update(overrides)
    return cfg


def build_categories(root: str) -> list[str]:
    """The object categories of the SynthGround build at ``root`` (``meta.json``): the
    classes of the test detectors' caches (v2: 60 pictograms, v1: 9 shapes)."""
    with open(osp.join(root, 'meta.json')) as f:
        return list(json.load(f)['categories'])


def flickr_dataset(root: str, split: str, pipeline=()) -> Flickr30kEntitiesDataset:
    return Flickr30kEntitiesDataset(data_root=root, ann_file=f'flickr30k_entities/{split}.txt',
                                    data_prefix=DATA_PREFIX, pipeline=list(pipeline),
                                    test_mode=split != 'train')


def write_tiny_cache(root: str, out: str, *, seed: int = 0) -> tuple[str, str]:
    """A region cache of every image of a SynthGround build and the phrase vocabulary.

    Each image gets its ground-truth boxes, jittered by a few pixels, then random boxes, up
    to NUM_REGIONS; random features and class probabilities over the build's categories (test
    data, not a detector).

    Returns:
        (cache folder, vocabulary file).
    """
    rng = np.random.default_rng(seed)
    classes = build_categories(root)
    cache = RegionCache.create(osp.join(out, 'regions'), dict(
        detector=dict(type='test', classes=classes), extraction=dict(topk=NUM_REGIONS)))
    train_phrases = []
    for split in ('train', 'val', 'test'):
        dataset = flickr_dataset(root, split)
        images = {}
        for index in range(len(dataset)):
            info = dataset.get_data_info(index)
            image = images.setdefault(info['img_id'], dict(hw=(info['height'], info['width']),
                                                           boxes=[]))
            for phrase in info['phrases']:
                image['boxes'] += list(phrase['boxes_xyxy'])
                if split == 'train':
                    train_phrases.append(phrase['text'])
        for img_id, image in images.items():
            h, w = image['hw']
            gt = np.unique(np.asarray(image['boxes'], np.float32).reshape(-1, 4), axis=0)
            gt = gt[:NUM_REGIONS] + rng.uniform(-2, 2, size=(min(len(gt), NUM_REGIONS), 4))
            corners = rng.uniform(0, 1, size=(NUM_REGIONS - len(gt), 4)) * [w, h, w, h]
            extra = np.concatenate([np.minimum(corners[:, :2], corners[:, 2:]),
                                    np.maximum(corners[:, :2], corners[:, 2:]) + 1], axis=1)
            boxes = np.concatenate([gt, extra]).clip(0, [w, h, w, h]).astype(np.float32)
            probs = rng.dirichlet(np.ones(len(classes) + 1), size=NUM_REGIONS)
            cache.write(img_id, dict(
                boxes_xyxy=boxes, scores=np.linspace(1, 0.1, NUM_REGIONS),
                labels=probs[:, :-1].argmax(1), image_hw=(h, w),
                features=rng.normal(size=(NUM_REGIONS, FEATURE_DIM)).astype(np.float32),
                class_probs=probs.astype(np.float32)))
        cache.write_split(split, sorted(images))
    vocab_file = osp.join(out, 'phrase_vocab.txt')
    write_word_vocab(build_word_vocab(train_phrases), vocab_file)
    return cache.root, vocab_file
