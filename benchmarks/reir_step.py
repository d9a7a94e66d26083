"""ReIR training throughput at the paper's sizes, from cached region features.

Prints, measured in one run on this machine: caption pairs/s of a full training step of
``ReIRGrounder`` (the full model: both stages, visual object graph, relation classifier,
L_rec + L_rank + L_reg + L_rel; forward, backward, SGD) on batches of 40 captions with
M = 50 proposals of 2048-d each, d = 1024, K = 5; and the share of the step spent in the
forward passes of the visual object graph and of the losses (the loss modules, and the
phrase decoder that L_rec runs), measured by forward hooks in the same steps.

Weights and features are random (speed does not depend on them); captions are
SynthGround-like sentences of 2-4 phrases linked by relations.

    OMP_NUM_THREADS=2 python benchmarks/reir_step.py [--batch-size 40] [--regions 50] \
        [--region-dim 2048] [--dim 1024] [--topk 5] [--steps 5] [--vocab 8000]
"""

import argparse
import os.path as osp
import random
import tempfile
import time
from collections import defaultdict

import torch
from mmengine.structures import InstanceData

from mmgrounding.registry import MODELS
from mmgrounding.structures import GroundingDataSample
from mmgrounding.utils import register_all_modules

COLOURS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange']
SHAPES = ['circle', 'oval', 'heart', 'square', 'triangle', 'diamond', 'hexagon', 'star', 'cross']
RELATIONS = ['above', 'below', 'to the left of', 'to the right of', 'next to']


def make_caption(rng: random.Random) -> tuple[str, list[tuple[int, int]]]:
    """'a red circle above a blue star next to ...' with the character span of each phrase."""
    caption, spans = '', []
    for i in range(rng.randint(2, 4)):
        if i:
            caption += f' {rng.choice(RELATIONS)} '
        phrase = f'a {rng.choice(COLOURS)} {rng.choice(SHAPES)}'
        spans.append((len(caption), len(caption) + len(phrase)))
        caption += phrase
    return caption, spans


def make_batch(rng: random.Random, *, batch_size: int, regions: int, region_dim: int):
    samples = []
    for i in range(batch_size):
        caption, spans = make_caption(rng)
        sample = GroundingDataSample()
        sample.set_metainfo(
            dict(
                img_id=i,
                caption=caption,
                phrase_spans=spans,
                phrases=[caption[s:e] for s, e in spans],
                ori_shape=(375, 500),
            )
        )
        corners = torch.rand(regions, 2) * torch.tensor([400.0, 300])
        sample.proposals = InstanceData(
            bboxes=torch.cat([corners, corners + 20 + 80 * torch.rand(regions, 2)], dim=1),
            feats=torch.randn(regions, region_dim).relu(),
            labels=torch.randint(len(SHAPES), (regions,)),
            scores=torch.rand(regions),
        )
        samples.append(sample)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch-size', type=int, default=40)
    parser.add_argument('--regions', type=int, default=50)
    parser.add_argument('--region-dim', type=int, default=2048)
    parser.add_argument('--dim', type=int, default=1024)
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument('--steps', type=int, default=5)
    parser.add_argument('--vocab', type=int, default=8000, help='caption vocabulary size')
    args = parser.parse_args()
    register_all_modules()
    torch.manual_seed(0)
    rng = random.Random(0)

    with tempfile.TemporaryDirectory() as tmp:
        words = [
            '[PAD]',
            '[UNK]',
            'a',
            *COLOURS,
            *SHAPES,
            *{w for r in RELATIONS for w in r.split()},
        ]
        words += [f'w{i}' for i in range(args.vocab - len(words))]
        vocab = osp.join(tmp, 'vocab.txt')
        with open(vocab, 'w') as f:
            f.writelines(w + '\n' for w in words)
        relations = osp.join(tmp, 'relations.txt')
        with open(relations, 'w') as f:
            f.writelines(f'{r}\t1000\n' for r in RELATIONS)
        model = MODELS.build(
            dict(
                type='ReIRGrounder',
                phrase_encoder=dict(
                    type='CaptionLSTMPhraseEncoder',
                    vocab_file=vocab,
                    embed_dim=300,
                    hidden_dim=args.dim,
                ),
                region_embedder=dict(
                    type='RegionFeatureEmbedder', in_dim=args.region_dim, out_dim=args.dim
                ),
                matching_head=dict(type='ReIRMatchingHead', hidden_dim=256),
                phrase_decoder=dict(
                    type='PhraseReconstructionDecoder', embed_dim=300, hidden_dim=args.dim
                ),
                regression_loss=dict(type='SelfTaughtRegressionLoss'),
                relation_loss=dict(type='RelationClassificationLoss'),
                label_prior=dict(type='WordNetLabelPrior'),
                object_graph=dict(type='VisualObjectGraph'),
                relation_classifier=dict(type='RelationClassifier', hidden_dim=args.dim),
                relation_vocab_file=relations,
                topk=args.topk,
                class_names=SHAPES,
                feature_dim=args.region_dim,
            )
        )
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    spent: dict[str, float] = defaultdict(float)
    started: dict[int, float] = {}

    def timed(name: str, module: torch.nn.Module) -> None:
        module.register_forward_pre_hook(
            lambda m, _: started.__setitem__(id(m), time.perf_counter())
        )
        module.register_forward_hook(
            lambda m, _i, _o: spent.__setitem__(
                name, spent[name] + time.perf_counter() - started[id(m)]
            )
        )

    timed('graph', model.object_graph)
    for name in ('reconstruction_loss', 'ranking_loss', 'regression_loss', 'relation_loss'):
        timed('losses', getattr(model, name))
    timed('phrase decoder (L_rec)', model.phrase_decoder)

    batches = [
        make_batch(
            rng, batch_size=args.batch_size, regions=args.regions, region_dim=args.region_dim
        )
        for _ in range(args.steps + 1)
    ]

    def step(samples) -> None:
        losses = model.loss(None, samples)
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()

    step(batches[0])  # warm-up: caches (tokens, label prior, relations), allocator
    spent.clear()
    start = time.perf_counter()
    for samples in batches[1:]:
        step(samples)
    total = time.perf_counter() - start
    pairs = args.steps * args.batch_size
    phrases = sum(len(s.metainfo['phrases']) for b in batches[1:] for s in b)
    print(
        f'ReIR training step, batch {args.batch_size}, M = {args.regions}, D = '
        f'{args.region_dim}, d = {args.dim}, K = {args.topk}, {torch.get_num_threads()} '
        f'threads, {args.steps} steps ({phrases / args.steps:.0f} phrases a batch):'
    )
    print(f'  {pairs / total:.1f} caption pairs/s ({1000 * total / args.steps:.0f} ms a step)')
    for name, seconds in spent.items():
        print(f'  forward of {name}: {100 * seconds / total:.1f}% of the step')


if __name__ == '__main__':
    main()
