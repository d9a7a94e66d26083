"""Region cache speed on this machine: extraction, reading, and reading's share of a step.

Prints:
- extraction images/s of the detector (one process, batch 1, as ``make proposals`` runs);
- cache reads through ``LoadRegionFeatures`` in random order: entries/s, regions/s, MB/s
  (the files are in the page cache after a first pass, as during training);
- the share of a training step spent reading region features (goal <= 20%). The step is
  that of a region-based grounder at SynthGround size: a DataLoader in the main process
  (``num_workers=0``, so reading is not hidden behind the model) with
  LoadGroundingAnnotations + LoadRegionFeatures + PackGroundingInputs over the training
  captions, then forward, backward and an AdamW update of InfoGround's objective (a small
  BertTextEncoder over the caption, mmgrounding's WordRegionAttention over the K region
  features of every image of the batch, InfoGroundImageLoss).

    python benchmarks/region_cache.py [--det-config C --det-checkpoint P] [--cache DIR] \
        [--data-root data/synthground/] [--batch-size 32] [--steps 20]

Run ``make proposals`` first; ``--cache`` defaults to the cache it writes.
"""
import argparse
import os.path as osp
import random
import tempfile
import time

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from torch import nn
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader

from mmgrounding.apis.region_extraction import (
    dataset_images,
    detector_test_pipeline,
    extract_to_cache,
    region_test_cfg,
)
from mmgrounding.datasets import Flickr30kEntitiesDataset
from mmgrounding.datasets.region_cache import RegionCache
from mmgrounding.datasets.transforms import (
    LoadGroundingAnnotations,
    LoadRegionFeatures,
    PackGroundingInputs,
)
from mmgrounding.models.fusion import WordRegionAttention
from mmgrounding.models.losses import InfoGroundImageLoss
from mmgrounding.models.text_encoders.bert_text_encoder import BertTextEncoder
from mmgrounding.utils import register_all_modules

DET_NAME = 'faster-rcnn_r18-c32_fpn_1xb8-10e_synthground-vg'
DET_CONFIG = f'configs/detectors/{DET_NAME}.py'
DET_CHECKPOINT = f'work_dirs/{DET_NAME}/epoch_10.pth'


class TimedLoadRegionFeatures(LoadRegionFeatures):
    """LoadRegionFeatures that adds the seconds it spends to ``self.seconds``."""

    seconds = 0.0

    def transform(self, results: dict) -> dict:
        start = time.perf_counter()
        results = super().transform(results)
        self.seconds += time.perf_counter() - start
        return results


class InfoGroundStep(nn.Module):
    """InfoGround's training objective on cached regions: a small BertTextEncoder gives the
    word features, mmgrounding's WordRegionAttention scores every caption against every image
    of the batch, and InfoGroundImageLoss (the shared InfoNCE core) is the loss."""

    def __init__(self, region_dim: int, *, hidden: int = 128, layers: int = 2) -> None:
        super().__init__()
        self.text = BertTextEncoder(
            config=dict(vocab_size=512, hidden_size=hidden, num_attention_heads=4,
                        intermediate_size=2 * hidden, max_position_embeddings=64),
            num_layers=layers)
        self.attention = WordRegionAttention(region_dim=region_dim, word_dim=hidden,
                                             embed_dim=hidden)
        self.loss = InfoGroundImageLoss(temperature=0.07)

    def forward(self, token_ids, token_mask, regions, region_mask):
        words = self.text(token_ids, token_mask.long())  # (B, L, d)
        phi, _ = self.attention(regions, words, region_mask=region_mask, word_mask=token_mask,
                                all_pairs=True)  # (B, B, L)
        return self.loss(phi, token_mask)


def bench_extraction(args, tmp: str) -> float:
    from mmdet.apis import init_detector
    cfg = Config.fromfile(args.det_config)
    model = init_detector(cfg, args.det_checkpoint, device='cpu')
    dataset = Flickr30kEntitiesDataset(
        data_root=args.data_root, ann_file='flickr30k_entities/test.txt', pipeline=[],
        data_prefix=dict(img='images/', annotations='flickr30k_entities/Annotations/',
                         sentences='flickr30k_entities/Sentences/'))
    images = dataset_images(dataset)[:args.extract_images]
    cache = RegionCache.create(osp.join(tmp, 'extract'), dict(detector={}, extraction={}))
    stats = extract_to_cache(
        model, images, cache, pipeline=detector_test_pipeline(cfg), scope='mmgrounding',
        rcnn_test_cfg=region_test_cfg(model, topk=args.topk, score_thr=0.0),
        log_interval=10**9)
    return stats['written'] / stats['seconds']


def bench_reading(args) -> tuple[float, float, float]:
    cache = RegionCache(args.cache)
    ids = cache.image_ids()
    transform = LoadRegionFeatures(args.cache, topk=args.topk, with_class_probs=True,
                                   check_size=False)
    for img_id in ids:  # first pass: the files enter the page cache
        transform(dict(img_id=img_id))
    random.Random(0).shuffle(ids)
    start = time.perf_counter()
    regions = nbytes = 0
    for img_id in ids:
        results = transform(dict(img_id=img_id))
        regions += len(results['region_boxes'])
        nbytes += sum(results[k].nbytes for k in results if k.startswith('region_'))
    seconds = time.perf_counter() - start
    return len(ids) / seconds, regions / seconds, nbytes / seconds / 2**20


def bench_step_share(args) -> dict:
    reader = TimedLoadRegionFeatures(args.cache, topk=args.topk)
    dataset = Flickr30kEntitiesDataset(
        data_root=args.data_root, ann_file='flickr30k_entities/train.txt',
        data_prefix=dict(img='images/', annotations='flickr30k_entities/Annotations/',
                         sentences='flickr30k_entities/Sentences/'),
        pipeline=[LoadGroundingAnnotations(), reader, PackGroundingInputs()])
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=0,
                        collate_fn=pseudo_collate, generator=torch.Generator().manual_seed(0))
    dim = RegionCache(args.cache).meta['extraction']['feature_dim']
    torch.manual_seed(0)
    model = InfoGroundStep(dim)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    read, data, step = [], [], []
    batches = iter(loader)
    for index in range(args.steps + 2):
        reader.seconds = 0.0
        start = time.perf_counter()
        batch = next(batches)
        loaded = time.perf_counter()
        samples = batch['data_samples']
        proposals = [s.proposals for s in samples]
        regions = pad_sequence([p.feats for p in proposals], batch_first=True)  # (B, K, D)
        region_mask = pad_sequence([torch.ones(len(p), dtype=torch.bool) for p in proposals],
                                   batch_first=True)  # (B, K)
        # caption tokens: the benchmark times the model, not the tokenizer
        lengths = [min(len(s.caption.split()) + 2, 40) for s in samples]
        token_ids = torch.randint(5, 512, (len(samples), max(lengths)))  # (B, L)
        token_mask = torch.arange(max(lengths))[None] < torch.tensor(lengths)[:, None]
        loss = model(token_ids, token_mask, regions, region_mask)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        end = time.perf_counter()
        if index >= 2:  # warm-up
            read.append(reader.seconds)
            data.append(loaded - start)
            step.append(end - start)
    median = lambda xs: float(np.median(xs))  # noqa: E731
    return dict(read_ms=1e3 * median(read), data_ms=1e3 * median(data),
                step_ms=1e3 * median(step),
                share=sum(read) / sum(step))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--det-config', default=DET_CONFIG)
    parser.add_argument('--det-checkpoint', default=DET_CHECKPOINT)
    parser.add_argument('--cache', default=f'data/synthground/regions/{DET_NAME}')
    parser.add_argument('--data-root', default='data/synthground/')
    parser.add_argument('--topk', type=int, default=100)
    parser.add_argument('--extract-images', type=int, default=60)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--steps', type=int, default=20)
    args = parser.parse_args()
    register_all_modules()
    print(f'threads: {torch.get_num_threads()}, topk {args.topk}')
    with tempfile.TemporaryDirectory() as tmp:
        rate = bench_extraction(args, tmp)
    print(f'extraction: {rate:.1f} images/s ({args.extract_images} SynthGround test images, '
          'batch 1, one process)')
    entries, regions, mbytes = bench_reading(args)
    print(f'cache read (LoadRegionFeatures, random order, page cache warm): '
          f'{entries:.0f} entries/s, {regions:.0f} regions/s, {mbytes:.0f} MB/s')
    share = bench_step_share(args)
    print(f"training step, batch {args.batch_size}: reading features {share['read_ms']:.1f} ms "
          f"of data loading {share['data_ms']:.1f} ms and step {share['step_ms']:.1f} ms; "
          f"share spent reading {100 * share['share']:.1f}% (goal <= 20%)")


if __name__ == '__main__':
    main()
