"""AMC's cost at ALBEF-base sizes on this machine, measured side by side in one run.

Prints, for random weights at 256 px on the CPU:
- training step (forward + backward + optimizer) with AMC ÷ without, at batch 4 and 8
  (goal ≤ 1.1×; the official implementation measured 0.96× at batch 4 on 2 cores);
- pointing evaluation of 32 phrases of one image: batched (one pass) ÷ one phrase per pass,
  in phrases/s (goal ≥ 8×), and the largest difference between the two sets of maps
  (goal ≤ 1e-5).

    python benchmarks/amc_step.py [--batch-sizes 4 8] [--repeats 3] [--img-size 256]
"""
import argparse
import os
import tempfile
import time

import torch
from mmengine.structures import InstanceData

from mmgrounding.registry import MODELS
from mmgrounding.structures import GroundingDataSample
from mmgrounding.utils import register_all_modules

WORDS = ('a the man woman dog cat red blue green shirt left right on in with small large '
         'standing sitting next to holding ball car tree sky grass water').split()


def albef_base(vocab_file: str, *, amc: bool, img_size: int) -> dict:
    bert = dict(vocab_size=30522, hidden_size=768, num_attention_heads=12,
                intermediate_size=3072)
    return dict(
        type='ALBEFGrounder',
        image_encoder=dict(type='VisionTransformer', img_size=img_size, patch_size=16,
                           embed_dim=768, depth=12, num_heads=12),
        text_encoder=dict(type='BertTextEncoder', config=bert, num_layers=6),
        fusion=dict(type='ALBEFFusionEncoder', config=bert, num_layers=6),
        tokenizer=dict(vocab_file=vocab_file),
        explainer=dict(type='GradCAMExplainer',
                       target_layer='fusion.layers.2.crossattention.self'),
        amc_loss=dict(type='AMCLoss') if amc else None,
        queue_size=65536)


def make_batch(batch: int, img_size: int, generator: torch.Generator):
    images = torch.randn(batch, 3, img_size, img_size, generator=generator)
    samples = []
    for i in range(batch):
        words = [WORDS[int(j)] for j in torch.randint(len(WORDS), (8, ), generator=generator)]
        sample = GroundingDataSample()
        sample.set_metainfo(dict(caption=' '.join(words), img_id=str(i),
                                 img_shape=(img_size, img_size)))
        x1, y1 = torch.randint(0, img_size // 2, (2, ), generator=generator).tolist()
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[x1, y1, x1 + img_size / 3, y1 + img_size / 3]]),
            labels=torch.tensor([0]))
        samples.append(sample)
    return images, samples


def time_steps(model, optimizer, images, samples, repeats: int) -> float:
    """Median seconds of a training step (after one warm-up step)."""
    times = []
    for step in range(repeats + 1):
        torch.manual_seed(step)
        start = time.perf_counter()
        losses = model.loss(images, samples)
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
        if step > 0:
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[4, 8])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--img-size', type=int, default=256)
    parser.add_argument('--phrases', type=int, default=32)
    args = parser.parse_args()
    register_all_modules()
    generator = torch.Generator().manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        vocab = os.path.join(tmp, 'vocab.txt')
        with open(vocab, 'w') as f:
            f.write('\n'.join(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] + WORDS))
        torch.manual_seed(0)
        plain = MODELS.build(albef_base(vocab, amc=False, img_size=args.img_size))
        with_amc = MODELS.build(albef_base(vocab, amc=True, img_size=args.img_size))
        with_amc.load_state_dict(plain.state_dict())
        optimizers = {name: torch.optim.AdamW([p for p in m.parameters() if p.requires_grad],
                                              lr=1e-5)
                      for name, m in (('plain', plain), ('amc', with_amc))}
        print(f'threads: {torch.get_num_threads()}, image {args.img_size} px, ALBEF-base')
        print('| batch | step without AMC (s) | step with AMC (s) | ratio |')
        print('|---|---|---|---|')
        for batch in args.batch_sizes:
            images, samples = make_batch(batch, args.img_size, generator)
            t_plain = time_steps(plain, optimizers['plain'], images, samples, args.repeats)
            t_amc = time_steps(with_amc, optimizers['amc'], images, samples, args.repeats)
            print(f'| {batch} | {t_plain:.2f} | {t_amc:.2f} | {t_amc / t_plain:.2f}x |')

        with_amc.eval()
        image = torch.randn(1, 3, args.img_size, args.img_size, generator=generator)
        phrases = [' '.join(WORDS[(i + j) % len(WORDS)] for j in range(3))
                   for i in range(args.phrases)]
        start = time.perf_counter()
        batched = with_amc.explain_phrases(image, phrases)
        t_batched = time.perf_counter() - start
        start = time.perf_counter()
        single = torch.cat([with_amc.explain_phrases(image, [p]) for p in phrases])
        t_single = time.perf_counter() - start
        diff = float((batched - single).abs().max())
        print(f'\npointing evaluation, {args.phrases} phrases of one image: batched '
              f'{args.phrases / t_batched:.1f} phrases/s, one per pass '
              f'{args.phrases / t_single:.1f} phrases/s, ratio {t_single / t_batched:.1f}x, '
              f'max |difference| {diff:.2e}')


if __name__ == '__main__':
    main()
