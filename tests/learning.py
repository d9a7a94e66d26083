"""Shared parts of the learning tests: a SynthGround build big enough for a stable
measurement, a region cache of it with meaningful region features, the baselines, and one
train-then-test run of a recipe config.

The region cache (:func:`write_pixel_region_cache`) is test data in the exact cache format,
written with the cache's own writer, not a detector's output: each image gets the boxes of
its annotated objects jittered by up to 2 px and random boxes, up to ``NUM_REGIONS``. The
feature of a box is RoIAlign (mmcv.ops) of the image's RGB pixels on a 4 × 4 grid plus the
box's corners relative to the image size (52-d): what a detector's RoI feature carries about
colour, shape and position, without a trained detector (a randomly initialised tiny detector
gives proposals that miss nearly every object; ``tests/test_tools/test_detector_to_grounder.py``
runs that real chain once). Detection scores are higher for the object boxes (uniform in
[0.5, 1]) than for the random boxes ([0, 0.6]), as a detector's would be, so the
detector-score baseline finds an object but not the phrase's; class probabilities put 0.7 on
the class the phrase of the object maps to (CKD's rule over the build's categories, v2's 60
pictograms), 0.7 on background for the random boxes.
"""

import copy
import os
import os.path as osp

import mmcv
import mmengine
import numpy as np
import torch
from mmcv.ops import roi_align
from mmengine.config import Config
from mmengine.runner import Runner

from mmgrounding.datasets import RegionCache
from mmgrounding.text import build_word_vocab, match_phrase_to_classes, write_word_vocab

from .test_models.ckd_tiny import build_categories, flickr_dataset

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
NUM_IMAGES = 150
NUM_REGIONS = 10
POOL = 4
REGION_DIM = 3 * POOL * POOL + 4
# the recipes' paths, replaced by the test build's
RECIPE_CACHE = 'data/synthground/regions/faster-rcnn_r18-c32_fpn_1xb8-10e_synthground-vg/'
RECIPE_ROOT = 'data/synthground/'


def build_learning_data(out: str) -> dict:
    """A 150-image SynthGround (the default build, v2; seed 1) with its WordPiece vocabulary,
    CKD phrase vocabulary and pixel region cache. Returns their paths."""
    from mmgrounding.datasets.synthground import build_synthground
    from mmgrounding.datasets.synthground.vocab import collect_texts, train_vocab

    root = osp.join(out, 'synthground') + '/'
    build_synthground(root, seed=1, num_images=NUM_IMAGES)
    vocab = root + 'vocab.txt'  # where the recipes look for them
    train_vocab(collect_texts(root), vocab)
    phrase_vocab = root + 'ckd/phrase_vocab.txt'
    cache = write_pixel_region_cache(root, osp.join(out, 'regions'), phrase_vocab)
    return dict(root=root, vocab=vocab, cache=cache + '/', phrase_vocab=phrase_vocab)


def write_pixel_region_cache(root: str, out: str, vocab_file: str, *, seed: int = 0) -> str:
    """Write the region cache described in the module docstring into ``out`` and the CKD
    phrase vocabulary of the training phrases into ``vocab_file``; returns the cache folder."""
    rng = np.random.default_rng(seed)
    classes = build_categories(root)
    cache = RegionCache.create(
        out,
        dict(
            detector=dict(
                type='test: jittered objects + random boxes, RoIAlign of pixels', classes=classes
            ),
            extraction=dict(topk=NUM_REGIONS),
        ),
    )
    train_phrases = []
    for split in ('train', 'val', 'test'):
        dataset = flickr_dataset(root, split)
        images = {}
        for index in range(len(dataset)):
            info = dataset.get_data_info(index)
            image = images.setdefault(info['img_id'], dict(path=info['img_path'], boxes={}))
            for phrase in info['phrases']:
                match = match_phrase_to_classes(phrase['text'], classes)
                for box in phrase['boxes_xyxy']:
                    key = tuple(np.round(box, 1))
                    if match is not None or key not in image['boxes']:
                        image['boxes'][key] = None if match is None else match[0]
                if split == 'train':
                    train_phrases.append(phrase['text'])
        for img_id, image in images.items():
            pixels = mmcv.imread(image['path'], channel_order='rgb')
            h, w = pixels.shape[:2]
            objects = list(image['boxes'].items())[:NUM_REGIONS]
            gt = np.array([box for box, _ in objects], np.float32).reshape(-1, 4)
            gt = gt + rng.uniform(-2, 2, size=gt.shape)
            corners = rng.uniform(0, 1, size=(NUM_REGIONS - len(gt), 4)) * [w, h, w, h]
            extra = np.concatenate(
                [
                    np.minimum(corners[:, :2], corners[:, 2:]),
                    np.maximum(corners[:, :2], corners[:, 2:]) + 4,
                ],
                axis=1,
            )
            boxes = np.concatenate([gt, extra]).clip(0, [w, h, w, h]).astype(np.float32)
            scores = np.concatenate([rng.uniform(0.5, 1, len(gt)), rng.uniform(0, 0.6, len(extra))])
            probs = np.full((NUM_REGIONS, len(classes) + 1), 0.3 / len(classes))
            for row, (_, cls) in enumerate(objects):
                probs[row, len(classes) if cls is None else cls] = 0.7
            probs[len(gt) :, len(classes)] = 0.7
            order = np.argsort(-scores, kind='stable')  # best first, as the cache stores
            boxes, scores, probs = boxes[order], scores[order], probs[order]
            cache.write(
                img_id,
                dict(
                    boxes_xyxy=boxes,
                    scores=scores.astype(np.float32),
                    labels=probs[:, :-1].argmax(1),
                    image_hw=(h, w),
                    features=pixel_features(pixels, boxes),
                    class_probs=probs.astype(np.float32),
                ),
            )
        cache.write_split(split, sorted(images))
    os.makedirs(osp.dirname(vocab_file), exist_ok=True)
    write_word_vocab(build_word_vocab(train_phrases), vocab_file)
    return cache.root


def pixel_features(pixels: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(K, 52): RoIAlign of the RGB pixels (in [-1, 1]) on a 4 × 4 grid, then the box's
    corners divided by the image width and height."""
    h, w = pixels.shape[:2]
    image = torch.from_numpy(pixels).permute(2, 0, 1)[None].float().contiguous() / 127.5 - 1
    rois = torch.cat([torch.zeros(len(boxes), 1), torch.from_numpy(boxes)], dim=1)  # (K, 5)
    pooled = roi_align(image, rois, (POOL, POOL), 1.0, 2, 'avg', True)  # (K, 3, 4, 4)
    corners = torch.from_numpy(boxes) / torch.tensor([w, h, w, h], dtype=torch.float32)
    return torch.cat([pooled.flatten(1), corners], dim=1).numpy().astype(np.float32)


def recipe(config: str, data: dict, work_dir: str, **fields) -> Config:
    """A recipe config of ``configs/`` on the test build: the recipe's data root and region
    cache replaced by the test build's, no dataloader workers, quiet logging, ``fields``
    merged in."""
    cfg = Config.fromfile(osp.join(REPO, 'configs', config))

    def retarget(value):
        if isinstance(value, str):
            return value.replace(RECIPE_CACHE, data['cache']).replace(RECIPE_ROOT, data['root'])
        if isinstance(value, dict):
            return {k: retarget(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(retarget(v) for v in value)
        return value

    cfg = Config(retarget(cfg.to_dict()))
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(name):
            cfg[name].update(num_workers=0, persistent_workers=False)
    cfg.merge_from_dict(
        dict(
            work_dir=work_dir,
            log_level='WARNING',
            default_hooks=dict(logger=dict(interval=10)),
            visualizer=dict(vis_backends=[dict(type='LocalVisBackend')]),
        )
    )
    cfg.merge_from_dict(fields)
    return cfg


def train(cfg: Config) -> Runner:
    """Train the config (no validation); the runner, whose ``model`` is the trained model."""
    cfg = copy.deepcopy(cfg)
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.train_cfg.pop('val_interval', None)
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def train_and_test(cfg: Config) -> dict:
    """Train the config (no validation), then test it; the test metrics."""
    return train(cfg).test()


@torch.no_grad()
def matching_auc(
    model, cfg: Config, *, split: str = 'test', texts: str = 'phrases', heads=('itc', 'itm')
) -> dict:
    """How well an ALBEF model tells an image's own texts from the other texts of the split.

    ``split``: a split of the build in the Flickr30k Entities format (``'train'``, ``'val'``,
    ``'test'``), read with the test pipeline of ``cfg``. ``texts``: ``'phrases'`` (the
    grounded phrases of all captions of the image) or ``'captions'``. Per image, the AUC
    (P(an own text scores above another), ties half) of the ITC similarity and of the ITM
    match logit over every distinct text of the split, averaged over the images; 0.5 is
    chance.

    Returns:
        ``{head: auc}`` for the ``heads`` asked (``'itc'``, ``'itm'``).
    """
    loader_cfg = copy.deepcopy(cfg.test_dataloader)
    loader_cfg.update(batch_size=1, num_workers=0, persistent_workers=False)
    loader_cfg.dataset.ann_file = f'flickr30k_entities/{split}.txt'
    loader = Runner.build_dataloader(loader_cfg)
    model.eval()
    images, own = {}, {}
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        meta = data['data_samples'][0].metainfo
        images.setdefault(meta['img_id'], data['inputs'])
        mine = meta['phrases'] if texts == 'phrases' else [meta['caption']]
        own.setdefault(meta['img_id'], set()).update(mine)
    candidates = sorted(set().union(*own.values()))
    text = model.tokenize(candidates, next(iter(images.values())).device)
    text_embeds, text_feat = model.encode_text(text)  # (T, L, D), (T, E)
    aucs = {head: [] for head in heads}
    for img_id, image in images.items():
        is_own = torch.tensor([t in own[img_id] for t in candidates])  # (T,)
        if bool(is_own.all()):
            continue
        image_embeds, image_feat = model.encode_image(image)  # (1, 1 + N, C), (1, E)
        for name in heads:
            if name == 'itc':
                score = text_feat @ image_feat[0]  # (T,)
            else:
                image_tokens = image_embeds.expand(len(candidates), -1, -1)
                score = model.itm_logits(text_embeds, text['attention_mask'], image_tokens)[:, 1]
            pos, neg = score[is_own], score[~is_own]
            greater = (pos[:, None] > neg[None]).float().mean()
            ties = (pos[:, None] == neg[None]).float().mean()
            aucs[name].append(float(greater + 0.5 * ties))
    return {name: sum(v) / len(v) for name, v in aucs.items()}


def evaluate_only(cfg: Config) -> dict:
    cfg = copy.deepcopy(cfg)
    cfg.train_dataloader = cfg.train_cfg = cfg.optim_wrapper = None
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.param_scheduler = None
    return Runner.from_cfg(cfg).test()


# ---------------------------------------------------------------------- the methods' runs
def bert_cfg(vocab_file: str, hidden: int) -> dict:
    with open(vocab_file, encoding='utf-8') as f:
        vocab_size = sum(1 for _ in f)
    return dict(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=64,
    )


def method_config(
    method: str,
    data: dict,
    work_dir: str,
    *,
    iters: int,
    seed: int = 0,
    lr: float | None = None,
    batch_size: int | None = None,
) -> Config:
    """The SynthGround recipe of ``method`` on the test build, shortened to ``iters``
    iterations (a constant learning rate after a warm-up of a tenth of them)."""
    schedule = dict(
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters),
        randomness=dict(seed=seed),
        default_hooks=dict(checkpoint=dict(by_epoch=False, interval=iters)),
    )
    warmup = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=max(1, iters // 10))
    ]
    if method in ('amc', 'galbef'):
        name = dict(amc='amc_albef-tiny', galbef='galbef_albef-tiny')[method]
        cfg = recipe(f'amc/{name}_1xb32-900it_synthground-mix.py', data, work_dir, **schedule)
        cfg.param_scheduler = warmup
    elif method == 'infoground':
        cfg = recipe(
            'infoground/infoground_mlm-tiny_1xb50-400it_synthground-no-negatives.py',
            data,
            work_dir,
            **schedule,
        )
        # a small randomly initialised frozen BERT over the build's WordPiece vocabulary in
        # place of SynthGround's trained masked LM (words encoded online, no word cache)
        cfg.model.text_encoder = dict(
            type='BertTextEncoder', config=bert_cfg(data['vocab'], 32), num_layers=1
        )
        cfg.model.tokenizer = dict(vocab_file=data['vocab'])
        cfg.model.attention.update(region_dim=REGION_DIM, word_dim=32, embed_dim=32)
        pipeline = [
            dict(type='LoadRegionFeatures', cache_dir=data['cache'], topk=NUM_REGIONS),
            dict(type='PackGroundingInputs'),
        ]
        cfg.train_dataloader.dataset.pipeline = pipeline
        cfg.param_scheduler = warmup
    elif method == 'ckd':
        cfg = recipe(
            'ckd/ckd-nce-distill_lstm_1xb32-600it_synthground.py', data, work_dir, **schedule
        )
        cfg.model.region_branch.in_dim = REGION_DIM
        # λ = min(⌊iter / a⌋, 1) with a = a fifth of the run (the recipe: 200 of 600)
        cfg.custom_hooks[0]['step_size'] = max(1, iters // 5)
        cfg.param_scheduler = warmup
    else:
        raise ValueError(method)
    if lr is not None:
        cfg.optim_wrapper.optimizer.lr = lr
    if batch_size is not None:
        cfg.train_dataloader.batch_size = batch_size
    return cfg


def train_on_first_images(cfg: Config, data: dict, num_images: int) -> str:
    """Restrict an ALBEF recipe's training data (VG triplets and COCO captions of the build) to
    the first ``num_images`` training images: writes their split file and caption file into
    the build and points the two datasets at them. Returns the split's name (for
    :func:`matching_auc`)."""
    name = f'train_first{num_images}'
    root = data['root']
    with open(osp.join(root, 'flickr30k_entities/train.txt'), encoding='utf-8') as f:
        ids = [line.strip() for line in f if line.strip()][:num_images]
    with open(osp.join(root, f'flickr30k_entities/{name}.txt'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(ids) + '\n')
    captions = mmengine.load(osp.join(root, 'coco/annotations/captions_train.json'))
    keep = {int(i) for i in ids}
    captions['images'] = [im for im in captions['images'] if im['id'] in keep]
    captions['annotations'] = [a for a in captions['annotations'] if a['image_id'] in keep]
    mmengine.dump(captions, osp.join(root, f'coco/annotations/captions_{name}.json'))
    vg, coco = cfg.train_dataloader.dataset.datasets
    vg.image_ids_file = f'flickr30k_entities/{name}.txt'
    coco.ann_file = f'coco/annotations/captions_{name}.json'
    return name


def baseline_config(name: str, data: dict, work_dir: str) -> Config:
    """``configs/baselines/{name}_synthground_flickr30k.py`` on the test build."""
    return recipe(f'baselines/{name}_synthground_flickr30k.py', data, work_dir)


def run(method: str, data: dict, work_dir: str, *, iters: int = 0, seed: int = 0, **kwargs) -> dict:
    """Test metrics of a baseline (``'centre'``, ``'detector-score'``) or of a method trained
    ``iters`` iterations."""
    if method in ('centre', 'detector-score', 'random'):
        return evaluate_only(baseline_config(method, data, work_dir))
    return train_and_test(method_config(method, data, work_dir, iters=iters, seed=seed, **kwargs))
