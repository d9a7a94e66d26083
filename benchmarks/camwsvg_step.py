"""CAM-WSVG training-step time, split into visual / text / CAM / fusion / losses + backward.

Prints, measured in one run on this machine, for a full training step of
``CAMWSVGGrounder`` (CAM encoder + attention mining, F3F4F5, three attention layers +
concatenation; forward, backward, AdamW): the seconds of each part and its share of the
step, and images/s. The parts:

- visual: ``MultiLevelVisualEncoder`` forward;
- text: BERT + projection;
- CAM: the classifier forward on each query's image, the Grad-CAM backward and the CAM
  encoder (``CAMWSVGGrounder._cams``), plus the attention-mining re-pass of the classifier
  on the erased images (forward passes; all backward passes are in the last part);
- fusion: ``RegTokenFusion`` + ``RegBoxHead``;
- losses + backward: the rest of the step (proposal attention, phrase decoder, losses,
  backward, optimiser).

``--size paper`` (default): ResNet-50 at 640 px, BERT-base sizes (12 layers, 768 wide;
random weights, no files needed), C_p = 256, 50 proposals of 2048-d. ``--size synthground``:
the SynthGround model of ``configs/_base_/models/camwsvg_tiny.py`` at 128 px. Weights,
images and features are random (speed does not depend on them).

    OMP_NUM_THREADS=2 python benchmarks/camwsvg_step.py [--size paper|synthground] \
        [--batch-size 2] [--phrases 2] [--steps 3]
"""

import argparse
import os.path as osp
import tempfile
import time
from collections import defaultdict

import torch
from mmengine.config import Config
from mmengine.structures import InstanceData

from mmgrounding.registry import MODELS
from mmgrounding.structures import GroundingDataSample
from mmgrounding.utils import register_all_modules

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SHAPES = ['circle', 'oval', 'heart', 'square', 'triangle', 'diamond', 'hexagon', 'star', 'cross']
WORDS = ['a', 'the', 'red', 'green', 'blue', 'small', 'large', 'left', 'right'] + SHAPES


def model_cfg(size: str, vocab_file: str) -> tuple[dict, int, int]:
    """(grounder config, image side, region feature size)."""
    if size == 'paper':
        cfg = Config.fromfile(osp.join(ROOT, 'configs/_base_/models/camwsvg_r50.py')).model
        side, region_dim = 640, 2048
        bert = dict(
            vocab_size=len(WORDS) + 5,
            hidden_size=768,
            num_attention_heads=12,
            intermediate_size=3072,
            max_position_embeddings=512,
        )
        cfg.text_encoder = dict(type='BertTextEncoder', config=bert, num_layers=12)
        cfg.visual_encoder.backbone.pop('init_cfg')
        cfg.classifier.update(
            class_names=SHAPES, class_names_file=None, num_classes=len(SHAPES), checkpoint=None
        )
    else:
        cfg = Config.fromfile(osp.join(ROOT, 'configs/_base_/models/camwsvg_tiny.py')).model
        side, region_dim = 128, 256
        # the batch's phrases name these classes (with the build's 60 names they would name
        # none, and the CAM branch would not run)
        cfg.classifier.update(class_names=SHAPES, num_classes=len(SHAPES), checkpoint=None)
    cfg.tokenizer = dict(vocab_file=vocab_file)
    cfg.class_match = 'name'
    cfg.regression_switch = 1.0
    return cfg.to_dict(), side, region_dim


def make_batch(batch_size: int, phrases: int, side: int, region_dim: int):
    gen = torch.Generator().manual_seed(0)
    samples = []
    for i in range(batch_size):
        texts = [
            f'a {WORDS[2 + (i + p) % 3]} {SHAPES[(i + p) % len(SHAPES)]}' for p in range(phrases)
        ]
        sample = GroundingDataSample(metainfo=dict(img_id=i, phrases=texts, ori_shape=(side, side)))
        corners = torch.rand(50, 2, generator=gen) * side * 0.6
        sample.proposals = InstanceData(
            bboxes=torch.cat(
                [corners, corners + 8 + torch.rand(50, 2, generator=gen) * side * 0.3], dim=1
            ),
            feats=torch.randn(50, region_dim, generator=gen),
        )
        samples.append(sample)
    return torch.randn(batch_size, 3, side, side, generator=gen), samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', choices=('paper', 'synthground'), default='paper')
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--phrases', type=int, default=2, help='queries per image')
    parser.add_argument('--steps', type=int, default=3, help='timed steps (after one warm-up)')
    args = parser.parse_args()
    register_all_modules()
    with tempfile.TemporaryDirectory() as tmp:
        vocab = osp.join(tmp, 'vocab.txt')
        with open(vocab, 'w') as f:
            f.write('\n'.join(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] + WORDS) + '\n')
        cfg, side, region_dim = model_cfg(args.size, vocab)
        model = MODELS.build(cfg)
    model.train()
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    images, samples = make_batch(args.batch_size, args.phrases, side, region_dim)

    times: dict = defaultdict(float)

    def timed(name, fn):
        def wrapper(*a, **k):
            start = time.perf_counter()
            out = fn(*a, **k)
            times[name] += time.perf_counter() - start
            return out

        return wrapper

    model.visual_encoder.forward = timed('visual', model.visual_encoder.forward)
    model.text_encoder.forward = timed('text', model.text_encoder.forward)
    inside = dict(cams=False)
    cams = timed('CAM', model._cams)

    def cams_flagged(*a, **k):
        inside['cams'] = True
        try:
            return cams(*a, **k)
        finally:
            inside['cams'] = False

    model._cams = cams_flagged
    classifier = model.classifier.forward

    def classifier_timed(*a, **k):  # outside _cams: the attention-mining re-pass
        return (classifier if inside['cams'] else timed('AM re-pass', classifier))(*a, **k)

    model.classifier.forward = classifier_timed
    model.fusion.forward = timed('fusion', model.fusion.forward)
    model.box_head.forward = timed('fusion', model.box_head.forward)
    total = 0.0
    for step in range(args.steps + 1):
        if step == 1:  # the first step warms up
            times.clear()
            total = 0.0
        start = time.perf_counter()
        losses = model.loss(images, samples)
        optim.zero_grad()
        sum(losses.values()).backward()
        optim.step()
        total += time.perf_counter() - start
    # the classifier runs inside _cams (Grad-CAM, timed there) and again for attention mining
    parts = dict(
        visual=times['visual'],
        text=times['text'],
        CAM=times['CAM'] + times['AM re-pass'],
        fusion=times['fusion'],
    )
    parts['losses + backward'] = total - sum(parts.values())
    print(
        f'CAM-WSVG step, size={args.size}: {args.batch_size} images x {args.phrases} queries, '
        f'{side} px, {args.steps} steps, {torch.get_num_threads()} threads'
    )
    for name, seconds in parts.items():
        print(f'  {name:18s} {seconds / args.steps:8.3f} s/step  {100 * seconds / total:5.1f} %')
        if name == 'CAM':
            am = times['AM re-pass']
            share = 100 * am / total
            print(f'    {"of which AM":16s} {am / args.steps:8.3f} s/step  {share:5.1f} %')
    print(
        f'  {"step":18s} {total / args.steps:8.3f} s/step; '
        f'{args.batch_size * args.steps / total:.2f} images/s'
    )


if __name__ == '__main__':
    main()
