"""A tiny ReIR grounder and a small, learnable region cache of SynthGround for the tests.

The cache is not a detector's: for every ground-truth box of an image it holds one tight and
several loose copies (IoU about 0.55-0.85 with the box), then random boxes, up to
NUM_REGIONS. A region's feature is the one-hot colour, shape and size that the phrases
naming its object say, scaled by the square of the copy's IoU with the object (so phrases
can be matched to regions, the tight copy best), plus its offset to the object (so a loose box can
be regressed), plus noise; random boxes get noise only.
Detector scores are random, so the detector-score baseline is near chance.
"""

import os.path as osp

import numpy as np

from mmgrounding.datasets import RegionCache
from mmgrounding.text import build_word_vocab, head_noun, word_tokenize, write_word_vocab
from mmgrounding.text.relation_vocab import count_relations, relation_classes, write_relation_vocab

from .ckd_tiny import DATA_PREFIX, SHAPES, flickr_dataset

COLOURS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange']
SIZES = ['small', 'large']
FEATURE_DIM = len(COLOURS) + len(SHAPES) + len(SIZES) + 4 + 3  # + offset + 3 spare
NUM_REGIONS = 16
LOOSE_COPIES = 3
__all__ = [
    'DATA_PREFIX',
    'FEATURE_DIM',
    'NUM_REGIONS',
    'SHAPES',
    'reir_build_args',
    'tiny_reir_cfg',
    'write_reir_cache',
]


def tiny_reir_cfg(vocab_file: str, **overrides) -> dict:
    dim = 16
    cfg = dict(
        type='ReIRGrounder',
        data_preprocessor=dict(type='BaseDataPreprocessor'),
        phrase_encoder=dict(
            type='CaptionLSTMPhraseEncoder', vocab_file=vocab_file, embed_dim=12, hidden_dim=dim
        ),
        region_embedder=dict(type='RegionFeatureEmbedder', in_dim=FEATURE_DIM, out_dim=dim),
        matching_head=dict(type='ReIRMatchingHead', hidden_dim=16),
        phrase_decoder=dict(type='PhraseReconstructionDecoder', embed_dim=12, hidden_dim=16),
        ranking_loss=dict(type='ImageCaptionRankingLoss', margin=0.2),
        regression_loss=dict(type='SelfTaughtRegressionLoss'),
        label_prior=dict(type='WordNetLabelPrior'),
        object_graph=dict(type='VisualObjectGraph'),
        rank_dim=16,
        topk=5,
        class_names=SHAPES,
        feature_dim=FEATURE_DIM,
    )
    cfg.update(overrides)
    return cfg


def _jitter(box: np.ndarray, rng: np.random.Generator, scale: float) -> np.ndarray:
    w, h = box[2] - box[0], box[3] - box[1]
    return box + rng.uniform(-scale, scale, size=4) * np.array([w, h, w, h])


def _attributes(words: set) -> np.ndarray:
    """(FEATURE_DIM - 4,) one-hot colour, shape and size named by an object's phrases."""
    lemmas = {head_noun(word) for word in words} | set(words)
    codes = np.zeros(FEATURE_DIM - 4)
    for i, name in enumerate(COLOURS + SHAPES + SIZES):
        codes[i] = 2.0 * (
            name in lemmas
            or (name == 'large' and 'big' in lemmas)
            or (name == 'small' and 'little' in lemmas)
        )
    return codes


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(
        0.0, min(a[3], b[3]) - max(a[1], b[1])
    )
    area = lambda x: (x[2] - x[0]) * (x[3] - x[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def write_reir_cache(root: str, out: str, *, seed: int = 0) -> dict:
    """The cache (see the module docstring), the caption word vocabulary and the relation
    vocabulary (relations seen more than twice) of a SynthGround build.

    Returns:
        dict(cache_dir, vocab_file, relation_vocab_file).
    """
    rng = np.random.default_rng(seed)
    cache = RegionCache.create(
        osp.join(out, 'regions'),
        dict(detector=dict(type='test', classes=SHAPES), extraction=dict(topk=NUM_REGIONS)),
    )
    captions, relation_inputs = [], []
    for split in ('train', 'val', 'test'):
        dataset = flickr_dataset(root, split)
        images: dict = {}
        for index in range(len(dataset)):
            info = dataset.get_data_info(index)
            image = images.setdefault(
                info['img_id'], dict(hw=(info['height'], info['width']), objects={})
            )
            for phrase in info['phrases']:
                for box in phrase['boxes_xyxy']:
                    words = image['objects'].setdefault(tuple(box), set())
                    words.update(w for w in word_tokenize(phrase['text']) if w.isalpha())
            if split == 'train':
                captions.append(info['caption'])
                relation_inputs.append((info['caption'], [p['span'] for p in info['phrases']]))
        for img_id, image in images.items():
            h, w = image['hw']
            boxes, feats, labels = [], [], []
            for box, words in sorted(image['objects'].items()):
                box = np.asarray(box, np.float64)
                meaning = _attributes(words)
                heads = [s for s in SHAPES if meaning[len(COLOURS) + SHAPES.index(s)] > 0]
                label = SHAPES.index(heads[0]) if heads else int(rng.integers(len(SHAPES)))
                for copy in range(1 + LOOSE_COPIES):
                    moved = box if copy == 0 else _jitter(box, rng, 0.15)
                    moved = np.clip(moved, 0, [w, h, w, h])
                    bw, bh = max(moved[2] - moved[0], 1), max(moved[3] - moved[1], 1)
                    offset = (box - moved) / np.array([bw, bh, bw, bh])  # what regression fixes
                    boxes.append(moved)
                    # a loose box sees less of its object: the tight one matches best
                    overlap = _iou(moved, box) ** 2
                    feats.append(np.concatenate([overlap * meaning, 4 * offset]))
                    labels.append(label)
            boxes, feats, labels = boxes[:NUM_REGIONS], feats[:NUM_REGIONS], labels[:NUM_REGIONS]
            while len(boxes) < NUM_REGIONS:
                corners = rng.uniform(0, 1, size=4) * [w, h, w, h]
                boxes.append(
                    np.concatenate(
                        [
                            np.minimum(corners[:2], corners[2:]),
                            np.maximum(corners[:2], corners[2:]) + 2,
                        ]
                    )
                )
                feats.append(np.zeros(FEATURE_DIM))
                labels.append(int(rng.integers(len(SHAPES))))
            order = rng.permutation(NUM_REGIONS)
            feats = np.asarray(feats)[order] + rng.normal(
                scale=0.3, size=(NUM_REGIONS, FEATURE_DIM)
            )
            probs = np.full((NUM_REGIONS, len(SHAPES) + 1), 1.0 / (len(SHAPES) + 1))
            cache.write(
                img_id,
                dict(
                    boxes_xyxy=np.clip(np.asarray(boxes)[order], 0, [w, h, w, h]).astype(
                        np.float32
                    ),
                    scores=rng.uniform(size=NUM_REGIONS).astype(np.float32),
                    labels=np.asarray(labels)[order].astype(np.int32),
                    image_hw=(h, w),
                    features=feats.astype(np.float32),
                    class_probs=probs.astype(np.float32),
                ),
            )
        cache.write_split(split, sorted(images))
    vocab_file = osp.join(out, 'caption_vocab.txt')
    write_word_vocab(build_word_vocab(captions), vocab_file)
    relation_vocab_file = osp.join(out, 'relation_vocab.txt')
    write_relation_vocab(
        relation_classes(count_relations(relation_inputs), min_count=2), relation_vocab_file
    )
    return dict(
        cache_dir=cache.root, vocab_file=vocab_file, relation_vocab_file=relation_vocab_file
    )


def reir_build_args(vocab_file: str) -> dict:
    """Arguments of ReIR's registered components for tests/test_registry.py."""
    glove = osp.join(osp.dirname(vocab_file), 'reir_glove.txt')
    with open(glove, 'w') as f:
        f.write('circle 1 0\nsquare 0 1\n')
    return {
        'ReIRGrounder': {k: v for k, v in tiny_reir_cfg(vocab_file).items() if k != 'type'},
        'CaptionLSTMPhraseEncoder': dict(vocab_file=vocab_file),
        'RegionFeatureEmbedder': dict(in_dim=4),
        'ReIRMatchingHead': dict(dim=4),
        'PhraseReconstructionDecoder': dict(num_words=5, in_dim=4),
        'RelationClassifier': dict(dim=4, num_classes=3),
        'VisualObjectGraph': dict(dim=4),
        'WordNetLabelPrior': dict(class_names=['circle']),
        'GloVeLabelPrior': dict(
            glove_file=glove, class_names=['circle'], vocab_file=vocab_file, dim=2
        ),
        'FrozenC4RoIExtractor': dict(
            backbone=dict(
                type='ResNet',
                depth=18,
                num_stages=3,
                strides=(1, 2, 2),
                dilations=(1, 1, 1),
                out_indices=(2,),
                frozen_stages=3,
                base_channels=8,
            )
        ),
    }
