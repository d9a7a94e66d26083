"""Train CAM-WSVG's image classifier on the image-level nouns of a grounding dataset.

    python tools/train_cam_classifier.py \\
        configs/camwsvg/cam-classifier_r18_1xb32-20e_synthground.py [--out FILE] [--epochs N]

Each image of the config's ``train_dataloader`` dataset is labelled with the classes that the
head nouns of its caption phrases name (:class:`NounClassMapper`, ``class_match`` of the
config); the config's ``model`` (a :class:`CAMClassifier`) is trained with a sigmoid BCE over
the classes (multi-label), the images normalised by the config's ``data_preprocessor``.
``classifier_train`` holds the recipe: ``epochs``, ``batch_size``, ``lr`` (AdamW, cosine to 0
over the iterations), ``weight_decay``, ``seed``, ``pos_weight`` (``'balanced'``: each class's
negatives / positives in the training labels, or None), ``flip`` (random horizontal flips) and
``shift`` (random translations of up to that many pixels, the border filled with the mean),
``permute_channels`` (random permutations of the colour channels) and ``label_source``
(``'captions'``, the default: the classes the caption phrases' head nouns name;
``'objects'``: the categories of the image's Visual Genome objects, named or not;
``'object_windows'``: one window per Visual Genome object of a class, :class:`ObjectWindows`,
configured by ``windows=dict(size, jitter, min_inside)``) and ``loss`` (``'bce'``, the
default, or ``'softmax'``: the cross-entropy against the labels as a distribution, the epoch
kept by the best val top-1 instead of F1).
The nouns without a class are counted and printed. Per-class accuracy, mean F1 at 0.5 and
exact-set accuracy of the ``val_dataloader`` images are printed after each epoch, beside the
all-absent baseline; the weights of the epoch with the best val F1 are kept.

Then the Grad-CAM maps that CAM-WSVG reads (the config's ``explainer``, a
:class:`ConvGradCAMExplainer`) are measured on the val phrases whose head noun has a class:
``gradcam pointing`` (the argmax of the map upsampled to the image inside a box of the
phrase; the image centre's rate beside it) and ``coverage`` (the share of the phrase's box
above the map's 0.5, :func:`cam_box_coverage`). The weights are written atomically to
``out_file`` (a ``state_dict`` that the grounder's ``classifier=dict(..., checkpoint=out_file)``
loads), with the class names and the metrics in ``meta``.

``--evaluate FILE`` trains nothing: it loads those weights and prints, for the ``--split``
images (val or test), the Grad-CAM coverage of every object by its own category's map
(:func:`object_coverage`, from the dataset's Visual Genome objects): the share of the box
above the map's 0.5, for large and small objects and, on a SynthGround v2 build, for large
objects with and without a telling part (``v2/parts.json``), with the coverage of the part
and of the rest of the box.

    python tools/train_cam_classifier.py CONFIG --evaluate FILE [--split test]
"""

import argparse
import copy
import json
import math
import os
import os.path as osp
import random

import numpy as np
import torch
import torch.nn.functional as F
from mmdet.structures.bbox import bbox_overlaps
from mmengine.config import Config

from mmgrounding.apis.builds import retarget_synthground
from mmgrounding.evaluation.functional.cam_coverage import box_mask, cam_box_coverage, upsample_map
from mmgrounding.registry import DATASETS, MODELS
from mmgrounding.text.head_noun import head_noun
from mmgrounding.text.noun_classes import NounClassMapper
from mmgrounding.utils import register_all_modules
from mmgrounding.utils.atomic import atomic_open


def image_labels(dataset, mapper: NounClassMapper) -> tuple[list[int], list, torch.Tensor]:
    """One sample index per image, the image ids, and the (I, C) multi-hot labels."""
    first: dict = {}
    labels: dict = {}
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        img = info['img_id']
        first.setdefault(img, index)
        row = labels.setdefault(img, torch.zeros(len(mapper.class_names)))
        for phrase in info['phrases']:
            row[mapper.classes_of_phrase(phrase['text'])] = 1.0
    order = sorted(first)
    return [first[i] for i in order], order, torch.stack([labels[i] for i in order])


def object_labels(data_root: str, img_ids: list, class_names: list) -> torch.Tensor:
    """(I, C) multi-hot labels of the images' Visual Genome object categories
    (``label_source='objects'``): every object whose first name is a class, whether or not a
    caption names it. An object of no class is counted and printed."""
    index = {name: i for i, name in enumerate(class_names)}
    objects = split_objects(data_root, img_ids)
    labels = torch.zeros(len(img_ids), len(class_names))
    unknown = 0
    for row, img in enumerate(img_ids):
        for name, *_ in objects[img]:
            if name in index:
                labels[row, index[name]] = 1.0
            else:
                unknown += 1
    if unknown:
        print(f'objects of no class: {unknown}')
    return labels


class ObjectWindows:
    """``label_source='object_windows'``: object-centred windows of the images, the stand-in
    for ImageNet's object-centric photos (interpretation, docs/methods/camwsvg.md).

    One window of ``size`` x ``size`` input pixels per Visual Genome object of a class,
    centred on the object's box (moved by up to ``jitter`` px in training), cut from the
    network input at its own scale (no resizing: the fully convolutional classifier sees
    objects at the size it later explains them at; the border outside the image is 0, the
    mean colour). A window's labels are the classes of the objects with at least
    ``min_inside`` of their box inside it, its own object always included.
    """

    def __init__(
        self,
        images: torch.Tensor,
        objects: list,
        num_classes: int,
        *,
        size: int = 64,
        jitter: int = 16,
        min_inside: float = 0.5,
    ) -> None:
        self.images = F.pad(images, (size, size, size, size))  # room for any window
        self.size, self.jitter, self.min_inside = size, jitter, min_inside
        self.objects = objects  # per image row: (C_i,) class indices, (C_i, 4) boxes xyxy
        self.samples = [(row, k) for row, (cls, _) in enumerate(objects) for k in range(len(cls))]
        self.num_classes = num_classes

    def __len__(self) -> int:
        return len(self.samples)

    def batch(self, indices, *, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        crops, labels = [], torch.zeros((len(indices), self.num_classes))
        for n, i in enumerate(indices):
            row, k = self.samples[int(i)]
            classes, boxes = self.objects[row]
            centre = (boxes[k, :2] + boxes[k, 2:]) / 2
            if train and self.jitter:
                centre = centre + torch.empty(2).uniform_(-self.jitter, self.jitter)
            x0, y0 = (centre - self.size / 2).round().long().tolist()
            window = torch.tensor([[x0, y0, x0 + self.size, y0 + self.size]], dtype=boxes.dtype)
            # the share of each object's box inside the window
            inside = bbox_overlaps(boxes, window, mode='iof')[:, 0] >= self.min_inside
            inside[k] = True
            labels[n, classes[inside]] = 1.0
            top, left = y0 + self.size, x0 + self.size  # in the padded image
            crops.append(self.images[row, :, top : top + self.size, left : left + self.size])
        return torch.stack(crops), labels


def window_objects(objects: dict, img_ids: list, sizes_hw: list, input_hw, class_names) -> list:
    """Per image row, the (C_i,) class indices and (C_i, 4) input-pixel boxes of its Visual
    Genome objects of a class (``split_objects``' boxes scaled from the image to the input)."""
    index = {name: i for i, name in enumerate(class_names)}
    out = []
    for img, (height, width) in zip(img_ids, sizes_hw):
        scale = torch.tensor([input_hw[1] / width, input_hw[0] / height] * 2)
        rows = [(index[cat], box * scale) for cat, box, *_ in objects[img] if cat in index]
        classes = torch.tensor([r[0] for r in rows], dtype=torch.long)
        boxes = torch.stack([r[1] for r in rows]) if rows else torch.zeros((0, 4))
        out.append((classes, boxes))
    return out


def image_sizes(dataset, indices: list[int]) -> list[tuple[int, int]]:
    """The (H, W) of each sample's original image."""
    infos = [dataset.get_data_info(i) for i in indices]
    return [(int(info['height']), int(info['width'])) for info in infos]


def load_images(dataset, indices: list[int], preprocessor) -> torch.Tensor:
    """(I, 3, H, W) normalised images through the dataset pipeline and the preprocessor."""
    batches = []
    for start in range(0, len(indices), 64):
        items = [dataset[i] for i in indices[start : start + 64]]
        data = preprocessor(
            dict(
                inputs=[d['inputs'] for d in items], data_samples=[d['data_samples'] for d in items]
            ),
            training=False,
        )
        batches.append(data['inputs'].float())
    return torch.cat(batches)


def augment(
    images: torch.Tensor, *, flip: bool, shift: int, permute_channels: bool = False
) -> torch.Tensor:
    """Random horizontal flips, translations of up to ``shift`` px (border = 0, the mean) and
    permutations of the colour channels (a shape's class does not depend on its colour)."""
    if permute_channels:
        orders = torch.stack([torch.randperm(3) for _ in range(len(images))])  # (B, 3)
        images = torch.gather(images, 1, orders[:, :, None, None].expand_as(images))
    if flip:
        flipped = torch.rand(len(images)) < 0.5
        images = torch.where(flipped[:, None, None, None], images.flip(-1), images)
    if shift > 0:
        height, width = images.shape[-2:]
        padded = F.pad(images, (shift, shift, shift, shift))  # (B, 3, H + 2s, W + 2s)
        offsets = torch.randint(0, 2 * shift + 1, (len(images), 2)).tolist()
        images = torch.stack(
            [p[:, dy : dy + height, dx : dx + width] for p, (dy, dx) in zip(padded, offsets)]
        )
    return images


@torch.no_grad()
def evaluate(model, images: torch.Tensor, labels: torch.Tensor) -> dict:
    model.eval()
    logits = torch.cat([model(images[i : i + 64]) for i in range(0, len(images), 64)])
    pred = logits.sigmoid() > 0.5
    truth = labels > 0.5
    tp = (pred & truth).sum().item()
    precision = tp / max(pred.sum().item(), 1)
    recall = tp / max(truth.sum().item(), 1)
    labelled = truth.any(dim=1)
    top1 = truth[torch.arange(len(truth)), logits.argmax(dim=1)][labelled]
    return dict(
        label_accuracy=100.0 * (pred == truth).float().mean().item(),
        f1=100.0 * 2 * precision * recall / max(precision + recall, 1e-12),
        exact=100.0 * (pred == truth).all(dim=1).float().mean().item(),
        top1=100.0 * top1.float().mean().item() if len(top1) else 0.0,
    )


def gradcam_quality(model, explainer, dataset, img_ids: list, images, mapper) -> dict:
    """Pointing and box coverage of the Grad-CAM maps of the val phrases' classes."""
    row_of = {img: i for i, img in enumerate(img_ids)}
    queries = []  # (image row, class indices, (n, 4) boxes, (H, W))
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        for phrase in info['phrases']:
            classes = list(mapper.classes_of_noun(head_noun(phrase['text']) or ''))
            if classes and phrase['boxes_xyxy']:
                boxes = torch.tensor(phrase['boxes_xyxy'], dtype=torch.float32).reshape(-1, 4)
                hw = (int(info['height']), int(info['width']))
                queries.append((row_of[info['img_id']], classes, boxes, hw))
    model.eval()
    hits, centre_hits, coverages, outsides = [], [], [], []
    num_classes = model.head.out_features
    for start in range(0, len(queries), 64):
        chunk = queries[start : start + 64]
        mask = torch.zeros((len(chunk), num_classes))
        for q, (_, classes, _, _) in enumerate(chunk):
            mask[q, classes] = 1.0
        with torch.enable_grad(), explainer.watch(model) as captured:
            score = (model(images[[c[0] for c in chunk]]) * mask).sum(dim=1)  # (Q,)
            maps = explainer.explain(score, captured['activations']).detach()  # (Q, h, w)
        for cam, (_, _, boxes, hw) in zip(maps, chunk):
            full = upsample_map(cam, hw)  # (H, W)
            y, x = divmod(int(full.argmax()), hw[1])
            for point, out in (((x + 0.5, y + 0.5), hits), ((hw[1] / 2, hw[0] / 2), centre_hits)):
                px, py = point
                inside = (boxes[:, 0] <= px) & (px <= boxes[:, 2])
                inside &= (boxes[:, 1] <= py) & (py <= boxes[:, 3])
                out.append(bool(inside.any()))
            coverage, outside = cam_box_coverage(cam, boxes, hw, threshold=0.5)
            coverages.append(coverage)
            outsides.append(outside)
    count = max(len(hits), 1)
    return dict(
        phrases=len(hits),
        gradcam_pointing=100.0 * sum(hits) / count,
        centre_pointing=100.0 * sum(centre_hits) / count,
        coverage=100.0 * sum(coverages) / count,
        outside=100.0 * sum(outsides) / count,
    )


def split_objects(data_root: str, img_ids: list) -> dict:
    """Per image id, its Visual Genome objects: (category, (4,) box xyxy, size attribute,
    part box xyxy or None), the parts from SynthGround v2's ``v2/parts.json`` when present."""
    with open(osp.join(data_root, 'vg', 'attributes.json'), encoding='utf-8') as f:
        images = {str(image['image_id']): image['attributes'] for image in json.load(f)}
    parts = {}
    parts_file = osp.join(data_root, 'v2', 'parts.json')
    if osp.isfile(parts_file):
        with open(parts_file, encoding='utf-8') as f:
            for part in json.load(f):
                parts[(str(part['image_id']), *part['box_xywh'])] = part['part_box_xywh']

    def xyxy(x, y, w, h):  # XYWH -> XYXY
        return torch.tensor([x, y, x + w, y + h], dtype=torch.float32)

    out = {}
    for img in img_ids:
        rows = []
        for o in images.get(str(img), []):
            size = 'large' if 'large' in o.get('attributes', []) else 'small'
            part = parts.get((str(img), o['x'], o['y'], o['w'], o['h']))
            box = xyxy(o['x'], o['y'], o['w'], o['h'])
            rows.append((o['names'][0], box, size, xyxy(*part) if part else None))
        out[img] = rows
    return out


def object_coverage(
    model, explainer, images: torch.Tensor, img_ids: list, sizes_hw: list, objects: dict
) -> dict:
    """Grad-CAM coverage of each object's box by the map of its own category.

    Returns, per group (``small``, ``large``, ``large with a part``, ``large without a
    part``): ``objects``, ``coverage`` (mean share of the box above the map's 0.5, %) and
    ``outside`` (mean share of the map's region outside the box, %); for the objects with a
    part also ``part_coverage`` / ``rest_coverage`` (the share of the part's box and of the
    rest of the object's box above 0.5, %) and ``part_area`` (the part's share of the box).
    """
    names = list(model.class_names)
    queries = [
        (row, names.index(cat), box, part, size)
        for row, img in enumerate(img_ids)
        for cat, box, size, part in objects[img]
        if cat in names
    ]
    model.eval()
    stats: dict = {}
    for start in range(0, len(queries), 64):
        chunk = queries[start : start + 64]
        with torch.enable_grad(), explainer.watch(model) as captured:
            logits = model(images[[q[0] for q in chunk]])
            score = logits[torch.arange(len(chunk)), [q[1] for q in chunk]]  # (Q,)
            maps = explainer.explain(score, captured['activations']).detach()  # (Q, h, w)
        for cam, (row, _, box, part, size) in zip(maps, chunk):
            hw = sizes_hw[row]
            coverage, outside = cam_box_coverage(cam, box[None], hw, threshold=0.5)
            keys = [size] + (
                [f'large {"without" if part is None else "with"} a part'] * (size == 'large')
            )
            record = dict(coverage=coverage, outside=outside)
            if part is not None:
                region = upsample_map(cam, hw) >= 0.5
                whole, inner = box_mask(box[None], hw), box_mask(part[None], hw)
                rest = whole & ~inner
                record.update(
                    part_coverage=float((region & inner).sum()) / max(float(inner.sum()), 1.0),
                    rest_coverage=float((region & rest).sum()) / max(float(rest.sum()), 1.0),
                    part_area=float(inner.sum()) / max(float(whole.sum()), 1.0),
                )
            for key in keys:
                stats.setdefault(key, []).append(record)
    out = {}
    for key in ('small', 'large', 'large with a part', 'large without a part'):
        records = stats.get(key, [])
        out[key] = dict(objects=len(records))
        for metric in ('coverage', 'outside', 'part_coverage', 'rest_coverage', 'part_area'):
            values = [r[metric] for r in records if metric in r]
            if values:
                out[key][metric] = round(100.0 * sum(values) / len(values), 2)
    return out


def evaluate_file(cfg, weights: str, split: str) -> dict:
    """``--evaluate``: the Grad-CAM object coverage of a trained classifier on a split."""
    model = MODELS.build(dict(cfg.model, frozen=True, checkpoint=weights))
    preprocessor = MODELS.build(cfg.data_preprocessor)
    mapper = NounClassMapper(model.class_names, match='name')
    dataset = DATASETS.build(cfg[f'{split}_dataloader'].dataset)
    indices, img_ids, _ = image_labels(dataset, mapper)
    images = load_images(dataset, indices, preprocessor)
    sizes = image_sizes(dataset, indices)
    objects = split_objects(cfg[f'{split}_dataloader'].dataset.data_root, img_ids)
    explainer = MODELS.build(cfg.explainer)
    return dict(
        split=split,
        images=len(img_ids),
        explainer=cfg.explainer.target_layer,
        threshold=0.5,
        **object_coverage(model, explainer, images, img_ids, sizes, objects),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--out', help='weights file (default: the config out_file)')
    parser.add_argument('--epochs', type=int, help='override classifier_train.epochs')
    parser.add_argument('--seed', type=int, help='override classifier_train.seed')
    parser.add_argument('--evaluate', metavar='FILE', help='measure these weights, train nothing')
    parser.add_argument('--split', choices=('val', 'test'), default='val', help='of --evaluate')
    parser.add_argument(
        '--synthground-root',
        metavar='DIR',
        help="another SynthGround build: the config's paths under data/synthground/ move to DIR",
    )
    args = parser.parse_args()
    register_all_modules()
    cfg = retarget_synthground(Config.fromfile(args.config), args.synthground_root)
    if args.evaluate:
        print(json.dumps(evaluate_file(cfg, args.evaluate, args.split), indent=1))
        return
    train = dict(cfg.classifier_train)
    for key in ('epochs', 'seed'):
        if getattr(args, key) is not None:
            train[key] = getattr(args, key)
    out = args.out or cfg.out_file
    random.seed(train['seed'])
    np.random.seed(train['seed'])
    torch.manual_seed(train['seed'])

    mapper = NounClassMapper(cfg.class_names, match=cfg.get('class_match', 'hyponym'))
    preprocessor = MODELS.build(cfg.data_preprocessor)
    splits, datasets, full_images = {}, {}, {}
    for split in ('train', 'val'):
        dataset = DATASETS.build(cfg[f'{split}_dataloader'].dataset)
        indices, img_ids, labels = image_labels(dataset, mapper)
        source = train.get('label_source', 'captions')
        if source == 'objects':
            labels = object_labels(dataset.data_root, img_ids, list(cfg.class_names))
        elif source not in ('captions', 'object_windows'):
            raise ValueError(
                "label_source must be 'captions', 'objects' or 'object_windows', got "
                f'{source!r}'
            )
        images = full_images[split] = load_images(dataset, indices, preprocessor)
        splits[split] = (images, labels)
        if source == 'object_windows':
            objects = window_objects(
                split_objects(dataset.data_root, img_ids),
                img_ids,
                image_sizes(dataset, indices),
                images.shape[-2:],
                list(cfg.class_names),
            )
            windows = ObjectWindows(
                images, objects, len(cfg.class_names), **train.get('windows', {})
            )
            crops, labels = windows.batch(range(len(windows)), train=False)
            # training draws jittered windows each epoch; val keeps these fixed crops
            splits[split] = (windows, labels) if split == 'train' else (crops, labels)
        datasets[split] = (dataset, img_ids)
        print(
            f'{split}: {len(indices)} images, {len(labels)} samples, '
            f'label counts {labels.sum(0).int().tolist()}'
        )
    unmatched = sorted(mapper.unmatched.items(), key=lambda kv: -kv[1])
    print(
        f'phrases whose head noun has no class: {sum(mapper.unmatched.values())} '
        f'(by noun: {unmatched[:10]})'
    )
    val_labels = splits['val'][1]
    print(
        'val all-absent baseline: label_accuracy '
        f'{100.0 * float((val_labels < 0.5).float().mean()):.2f}, f1 0.00'
    )

    model = MODELS.build(dict(cfg.model, frozen=False))
    model.init_weights()
    optim = torch.optim.AdamW(
        model.parameters(), lr=train['lr'], weight_decay=train['weight_decay']
    )
    images, labels = splits['train']  # images: a tensor, or ObjectWindows
    pos_weight = None
    if train.get('pos_weight') == 'balanced':
        positives = labels.sum(0).clamp(min=1)
        pos_weight = (len(labels) - positives) / positives  # (C,)
    elif train.get('pos_weight') is not None:
        raise ValueError(f"pos_weight must be 'balanced' or None, got {train['pos_weight']!r}")
    loss_type = train.get('loss', 'bce')
    if loss_type not in ('bce', 'softmax'):
        raise ValueError(f"loss must be 'bce' or 'softmax', got {loss_type!r}")
    select = 'f1' if loss_type == 'bce' else 'top1'  # the val metric that keeps an epoch
    steps_per_epoch = math.ceil(len(images) / train['batch_size'])
    total_steps = train['epochs'] * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps))
    )
    best, best_state, best_epoch = None, None, 0
    for epoch in range(train['epochs']):
        model.train()
        order = torch.randperm(len(images))
        total = 0.0
        for start in range(0, len(order), train['batch_size']):
            batch = order[start : start + train['batch_size']]
            if isinstance(images, ObjectWindows):
                inputs, targets = images.batch(batch, train=True)
            else:
                inputs, targets = images[batch], labels[batch]
            inputs = augment(
                inputs,
                flip=train.get('flip', False),
                shift=train.get('shift', 0),
                permute_channels=train.get('permute_channels', False),
            )
            logits = model(inputs)
            if loss_type == 'softmax':  # the labels as a distribution over the classes
                keep = targets.sum(dim=1) > 0
                soft = targets[keep] / targets[keep].sum(dim=1, keepdim=True)
                loss = F.cross_entropy(logits[keep], soft)
            else:
                loss = F.binary_cross_entropy_with_logits(logits, targets, pos_weight=pos_weight)
            optim.zero_grad()
            loss.backward()
            optim.step()
            scheduler.step()
            total += loss.item() * len(batch)
        metrics = evaluate(model, *splits['val'])
        print(
            f'epoch {epoch + 1}: train {loss_type} {total / len(images):.4f}; val '
            + ', '.join(f'{k} {v:.2f}' for k, v in metrics.items()),
            flush=True,
        )
        if best is None or metrics[select] > best[select]:
            best, best_state, best_epoch = metrics, copy.deepcopy(model.state_dict()), epoch + 1
    model.load_state_dict(best_state)
    explainer = MODELS.build(cfg.explainer)
    val_dataset, val_ids = datasets['val']
    quality = gradcam_quality(model, explainer, val_dataset, val_ids, full_images['val'], mapper)
    print(
        f'best val epoch {best_epoch}: '
        + ', '.join(f'{k} {v:.2f}' for k, v in best.items())
        + f'; Grad-CAM ({cfg.explainer.target_layer}) on {quality["phrases"]} val phrases: '
        f'pointing {quality["gradcam_pointing"]:.2f} (image centre '
        f'{quality["centre_pointing"]:.2f}), box coverage at 0.5 {quality["coverage"]:.2f}, '
        f'map outside the box {quality["outside"]:.2f}',
        flush=True,
    )
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with atomic_open(out, 'wb') as f:
        torch.save(
            dict(
                state_dict=model.state_dict(),
                meta=dict(
                    class_names=list(cfg.class_names),
                    val=dict(best, **quality),
                    epoch=best_epoch,
                    config=args.config,
                    epochs=train['epochs'],
                    label_source=train.get('label_source', 'captions'),
                ),
            ),
            f,
        )
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
