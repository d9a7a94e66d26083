"""Train CAM-WSVG's image classifier on the image-level nouns of a grounding dataset.

    python tools/train_cam_classifier.py \\
        configs/camwsvg/cam-classifier_r18_1xb32-20e_synthground.py [--out FILE] [--epochs N]

Each image of the config's ``train_dataloader`` dataset is labelled with the classes that the
head nouns of its caption phrases name (:class:`NounClassMapper`, ``class_match`` of the
config); the config's ``model`` (a :class:`CAMClassifier`) is trained with a sigmoid BCE over
the classes (multi-label), the images normalised by the config's ``data_preprocessor``. The
nouns without a class are counted and printed. Per-class accuracy, mean F1 at 0.5 and
exact-set accuracy of the ``val_dataloader`` images are printed after each epoch. The
weights are written atomically to ``out_file`` (a ``state_dict`` that the grounder's
``classifier=dict(..., checkpoint=out_file)`` loads), with the class names and the metrics
in ``meta``.
"""

import argparse
import os
import os.path as osp
import random

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmgrounding.registry import DATASETS, MODELS
from mmgrounding.text.noun_classes import NounClassMapper
from mmgrounding.utils import register_all_modules
from mmgrounding.utils.atomic import atomic_open


def image_labels(dataset, mapper: NounClassMapper) -> tuple[list[int], torch.Tensor]:
    """One sample index per image and the (I, C) multi-hot labels of the images."""
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
    return [first[i] for i in order], torch.stack([labels[i] for i in order])


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


@torch.no_grad()
def evaluate(model, images: torch.Tensor, labels: torch.Tensor) -> dict:
    model.eval()
    logits = torch.cat([model(images[i : i + 64]) for i in range(0, len(images), 64)])
    pred = logits.sigmoid() > 0.5
    truth = labels > 0.5
    tp = (pred & truth).sum().item()
    precision = tp / max(pred.sum().item(), 1)
    recall = tp / max(truth.sum().item(), 1)
    return dict(
        label_accuracy=100.0 * (pred == truth).float().mean().item(),
        f1=100.0 * 2 * precision * recall / max(precision + recall, 1e-12),
        exact=100.0 * (pred == truth).all(dim=1).float().mean().item(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--out', help='weights file (default: the config out_file)')
    parser.add_argument('--epochs', type=int, help='override classifier_train.epochs')
    args = parser.parse_args()
    register_all_modules()
    cfg = Config.fromfile(args.config)
    train = dict(cfg.classifier_train)
    if args.epochs is not None:
        train['epochs'] = args.epochs
    out = args.out or cfg.out_file
    random.seed(train['seed'])
    np.random.seed(train['seed'])
    torch.manual_seed(train['seed'])

    mapper = NounClassMapper(cfg.class_names, match=cfg.get('class_match', 'hyponym'))
    preprocessor = MODELS.build(cfg.data_preprocessor)
    splits = {}
    for split in ('train', 'val'):
        dataset = DATASETS.build(cfg[f'{split}_dataloader'].dataset)
        indices, labels = image_labels(dataset, mapper)
        splits[split] = (load_images(dataset, indices, preprocessor), labels)
        print(f'{split}: {len(indices)} images, label counts {labels.sum(0).int().tolist()}')
    unmatched = sorted(mapper.unmatched.items(), key=lambda kv: -kv[1])
    print(
        f'phrases whose head noun has no class: {sum(mapper.unmatched.values())} '
        f'(by noun: {unmatched[:10]})'
    )

    model = MODELS.build(dict(cfg.model, frozen=False))
    model.init_weights()
    optim = torch.optim.AdamW(
        model.parameters(), lr=train['lr'], weight_decay=train['weight_decay']
    )
    images, labels = splits['train']
    metrics = {}
    for epoch in range(train['epochs']):
        model.train()
        order = torch.randperm(len(images))
        total = 0.0
        for start in range(0, len(order), train['batch_size']):
            batch = order[start : start + train['batch_size']]
            loss = F.binary_cross_entropy_with_logits(model(images[batch]), labels[batch])
            optim.zero_grad()
            loss.backward()
            optim.step()
            total += loss.item() * len(batch)
        metrics = evaluate(model, *splits['val'])
        print(
            f'epoch {epoch + 1}: train BCE {total / len(images):.4f}; val '
            + ', '.join(f'{k} {v:.2f}' for k, v in metrics.items()),
            flush=True,
        )
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with atomic_open(out, 'wb') as f:
        torch.save(
            dict(
                state_dict=model.state_dict(),
                meta=dict(
                    class_names=list(cfg.class_names),
                    val=metrics,
                    config=args.config,
                    epochs=train['epochs'],
                ),
            ),
            f,
        )
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
