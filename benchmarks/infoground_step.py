"""InfoGround training throughput at the paper's sizes, on cached features.

Prints, measured side by side in one run on this machine:

- the data side: caption pairs/s through ``LoadRegionFeatures`` + ``LoadWordFeatures`` +
  ``PackGroundingInputs`` + collation, from a region cache and a word-feature cache written
  at paper sizes (30 regions of 2048-d, BERT-base 768-d tokens, 25 substitutes per noun) in
  a temporary folder (one process, page cache warm, as a dataloader worker reads them);
- the model side: pairs/s of a full training step of ``InfoGroundGrounder`` (L_img + L_lang,
  forward, backward, Adam) on batches of 50 pairs with cached word features;
- the same step with the word features computed by the frozen BERT-base every step (the
  path without a cache), on a smaller batch, and the ratio cached / online;
- the same cached step with the forward pass in bfloat16 (``torch.autocast``);
- the bound: the floating-point work of the cached step (its Linear layers, forward and
  backward) against this machine's measured matrix-multiply rate, i.e. how many pairs/s
  the step could reach if it ran at the GEMM rate, and the share of it reached.

The goal in issue 6 is >= 2000 pairs/s on 2 cores. Weights are random (speed does not
depend on them); captions are SynthGround-like text of ``--words`` words.

    OMP_NUM_THREADS=2 python benchmarks/infoground_step.py [--batch-size 50] [--regions 30] \
        [--region-dim 2048] [--steps 10] [--online-batch 4]
"""
import argparse
import os.path as osp
import random
import tempfile
import time

import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.dataset import pseudo_collate
from torch import nn

from mmgrounding.datasets.region_cache import RegionCache
from mmgrounding.datasets.transforms import (
    LoadRegionFeatures,
    LoadWordFeatures,
    PackGroundingInputs,
)
from mmgrounding.datasets.word_feature_cache import WordFeatureCache, word_cache_settings
from mmgrounding.registry import MODELS
from mmgrounding.text import tag_words, word_tokenize
from mmgrounding.utils import register_all_modules

COLOURS = ['red', 'blue', 'green', 'yellow', 'purple', 'orange', 'white', 'black']
SHAPES = ['circle', 'square', 'star', 'heart', 'cross', 'triangle', 'oval', 'diamond',
          'hexagon', 'shape', 'dog', 'man', 'woman', 'car', 'tree', 'horse', 'cat', 'boy',
          'girl', 'bike', 'ball', 'hat', 'shirt', 'table', 'chair', 'bus', 'train', 'boat']
FILLERS = ['a', 'the', 'next', 'to', 'left', 'of', 'above', 'on', 'with', 'near', 'and']


def make_captions(num: int, words: int, seed: int = 0) -> list:
    """Captions of about ``words`` words with three nouns (colour + shape pairs)."""
    rng = random.Random(seed)
    captions = []
    for _ in range(num):
        parts = []
        for _ in range(3):
            parts += ['a', rng.choice(COLOURS), rng.choice(SHAPES)]
            parts += rng.sample(FILLERS, 1)
        while len(parts) < words:
            parts.insert(rng.randrange(len(parts)), rng.choice(FILLERS))
        captions.append(' '.join(parts[:words]))
    return captions


def write_vocab(path: str) -> str:
    specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    words = sorted(set(COLOURS + SHAPES + FILLERS))
    with open(path, 'w') as f:
        f.write('\n'.join(specials + words) + '\n')
    return path


def build_model(args, vocab_file: str) -> nn.Module:
    bert = dict(vocab_size=64, hidden_size=768, num_attention_heads=12, intermediate_size=3072,
                max_position_embeddings=64)
    cfg = dict(
        type='InfoGroundGrounder',
        data_preprocessor=dict(type='BaseDataPreprocessor'),
        text_encoder=dict(type='BertTextEncoder', config=bert, num_layers=12),
        tokenizer=dict(vocab_file=vocab_file),
        attention=dict(type='WordRegionAttention', region_dim=args.region_dim, word_dim=768,
                       embed_dim=384))
    torch.manual_seed(0)
    return MODELS.build(cfg)


def negatives_of(caption: str, num: int, seed: int) -> dict:
    """``{noun index: [num substitutes]}`` (other shapes), as the negatives cache gives."""
    words = word_tokenize(caption)
    rng = random.Random(seed)
    return {i: rng.sample([s for s in SHAPES if s != w], min(num, len(SHAPES) - 1))
            for i, (w, tag) in enumerate(zip(words, tag_words(words))) if tag == 'NOUN'}


def write_caches(model, args, tmp: str, captions: list, negatives: list):
    """Region and word-feature caches of ``len(captions)`` pairs (image i <-> caption i)."""
    rng = np.random.default_rng(0)
    regions = RegionCache.create(osp.join(tmp, 'regions'), dict(detector={}, extraction={}))
    for i in range(len(captions)):
        corners = rng.uniform(0, 400, size=(args.regions, 2)).astype(np.float32)
        regions.write(str(i), dict(
            img_id=np.asarray(str(i)), image_hw=np.array([480, 640], np.int32),
            boxes_xyxy=np.concatenate([corners, corners + 50], axis=1),
            scores=np.sort(rng.uniform(size=args.regions).astype(np.float32))[::-1].copy(),
            labels=np.zeros(args.regions, np.int32),
            features=rng.standard_normal((args.regions, args.region_dim)).astype(np.float32)))
    settings = word_cache_settings(model.text_encoder, model.tokenizer, pretrained=None,
                                   max_text_length=model.max_text_length, dtype='float16',
                                   negatives_file=None)
    settings['negatives'] = dict(sha256='synthetic')
    words = WordFeatureCache.create(osp.join(tmp, 'words'), settings)
    dim = model.text_encoder.hidden_size
    # the real tokens and offsets; random features (speed does not depend on their values,
    # and running BERT-base over every substituted caption would take minutes)
    for i, (caption, caption_negatives) in enumerate(zip(captions, negatives)):
        encoding = model.tokenizer(caption, truncation=True, max_length=model.max_text_length,
                                   return_offsets_mapping=True)
        counts = [len(subs) for subs in caption_negatives.values()]
        words.write(i, dict(
            caption=caption, token_offsets=np.array(encoding['offset_mapping']),
            token_feats=rng.standard_normal((len(encoding['input_ids']), dim)),
            negative_words=np.array(list(caption_negatives)), negative_counts=np.array(counts),
            negative_substitutes=[w for subs in caption_negatives.values() for w in subs],
            negative_feats=rng.standard_normal((sum(counts), dim))))
    return regions.root, words.root


def make_pipeline(region_dir: str, word_dir: str, args, *, with_words: bool = True):
    """The training pipeline on the caches; without words the grounder encodes them."""
    transforms = [LoadRegionFeatures(region_dir, topk=args.regions, check_size=False)]
    if with_words:
        transforms.append(LoadWordFeatures(word_dir))
    return Compose(transforms + [PackGroundingInputs()])


def load(pipeline, index: int, caption: str) -> dict:
    """Pair ``index``: image ``index`` of the region cache with its caption."""
    return pipeline(dict(img_id=str(index), caption_id=index, caption=caption))


def bench_data(pipeline, args, captions: list) -> float:
    for i, caption in enumerate(captions):  # first pass: the files enter the page cache
        load(pipeline, i, caption)
    order = list(range(len(captions)))
    random.Random(0).shuffle(order)
    start = time.perf_counter()
    for first in range(0, len(order), args.batch_size):
        pseudo_collate([load(pipeline, i, captions[i])
                        for i in order[first:first + args.batch_size]])
    return len(order) / (time.perf_counter() - start)


def time_steps(model, samples, batch_size: int, steps: int, warmup: int = 2,
               bf16: bool = False) -> float:
    """Median seconds of a training step (loss, backward, Adam) over ``steps`` batches.

    ``bf16``: the forward pass under ``torch.autocast`` in bfloat16 (what ``--amp`` does on
    a CPU; the weights and the optimizer stay float32).
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-5)
    model.train()
    times = []
    for step in range(warmup + steps):
        first = (step * batch_size) % (len(samples) - batch_size + 1)
        batch = samples[first:first + batch_size]
        start = time.perf_counter()
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            losses = model.loss(None, batch)
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
        if step >= warmup:
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def linear_flops(module: nn.Module, rows: int) -> int:
    """Forward + backward FLOPs of the Linear layers of ``module`` over ``rows`` inputs."""
    macs = sum(m.in_features * m.out_features for m in module.modules()
               if isinstance(m, nn.Linear))
    return 3 * 2 * macs * rows  # forward, grad of input, grad of weight


def gemm_rate(n: int = 2048, rows: int = 1500, repeats: int = 10,
              dtype: torch.dtype = torch.float32) -> float:
    """FLOP/s of this machine's (rows x n) @ (n x n) matrix multiply."""
    a, b = torch.randn(rows, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * rows * n * n * repeats / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch-size', type=int, default=50)
    parser.add_argument('--regions', type=int, default=30)
    parser.add_argument('--region-dim', type=int, default=2048)
    parser.add_argument('--words', type=int, default=13, help='words per caption')
    parser.add_argument('--negatives', type=int, default=25, help='substitutes per noun')
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--online-batch', type=int, default=4,
                        help='pairs per step of the path without a cache (BERT-base over '
                        'every caption and substituted caption is slow)')
    args = parser.parse_args()
    register_all_modules()
    print(f'threads: {torch.get_num_threads()}; batch {args.batch_size}, {args.regions} '
          f'regions of {args.region_dim}-d, BERT-base words (768-d), {args.words}-word '
          f'captions with 3 nouns, {args.negatives} substitutes per noun')
    num_pairs = args.batch_size * 4
    captions = make_captions(num_pairs, args.words)
    negatives = [negatives_of(c, args.negatives, i) for i, c in enumerate(captions)]
    with tempfile.TemporaryDirectory() as tmp:
        model = build_model(args, write_vocab(osp.join(tmp, 'vocab.txt')))
        start = time.perf_counter()
        region_dir, word_dir = write_caches(model, args, tmp, captions, negatives)
        print(f'caches of {num_pairs} pairs written in {time.perf_counter() - start:.1f} s')
        cached_pipeline = make_pipeline(region_dir, word_dir, args)
        data_rate = bench_data(cached_pipeline, args, captions)
        online_pipeline = make_pipeline(region_dir, word_dir, args, with_words=False)
        cached = [load(cached_pipeline, i, c)['data_samples'] for i, c in enumerate(captions)]
        online = [load(online_pipeline, i, c)['data_samples'] for i, c in enumerate(captions)]
    for sample, caption_negatives in zip(online, negatives):
        sample.set_metainfo(dict(negatives=caption_negatives))

    cached_step = time_steps(model, cached, args.batch_size, args.steps)
    cached_rate = args.batch_size / cached_step
    bf16_rate = args.batch_size / time_steps(model, cached, args.batch_size, args.steps,
                                             bf16=True)
    online_step = time_steps(model, online, args.online_batch, 2, warmup=1)
    online_rate = args.online_batch / online_step

    tokens = np.mean([len(s.tokens) for s in cached])
    substitutes = np.mean([int(s.substitutes.counts.sum()) for s in cached])
    attention = model.attention
    flops = (linear_flops(attention.region_key, args.regions)
             + linear_flops(attention.region_value, args.regions)
             + linear_flops(attention.word_query, tokens + substitutes)
             + linear_flops(attention.word_value, tokens + substitutes))
    peak = gemm_rate(n=args.region_dim, rows=args.batch_size * args.regions)
    bound = peak / flops
    peak_bf16 = gemm_rate(n=args.region_dim, rows=args.batch_size * args.regions,
                          dtype=torch.bfloat16)
    print(f'data (cached regions + words, load + pack + collate): {data_rate:.0f} pairs/s')
    print(f'training step, cached words: {1e3 * cached_step:.0f} ms per batch of '
          f'{args.batch_size} = {cached_rate:.0f} pairs/s (goal >= 2000)')
    print(f'the same step with bfloat16 autocast: {bf16_rate:.0f} pairs/s '
          f'({bf16_rate / cached_rate:.1f}x float32)')
    print(f'training step, words from BERT-base every step: {online_rate:.2f} pairs/s; '
          f'cached / online = {cached_rate / online_rate:.0f}x')
    print(f'work per pair: {flops / 1e9:.2f} GFLOP in the Linear layers ({tokens:.1f} tokens '
          f'+ {substitutes:.0f} substitutes); GEMM rate {peak / 1e9:.0f} GFLOP/s -> bound '
          f'{bound:.0f} pairs/s; the step reaches {100 * cached_rate / bound:.0f}% of it; '
          f'bfloat16 GEMM rate {peak_bf16 / 1e9:.0f} GFLOP/s -> bound '
          f'{peak_bf16 / flops:.0f} pairs/s, reached {100 * bf16_rate * flops / peak_bf16:.0f}%')


if __name__ == '__main__':
    main()
