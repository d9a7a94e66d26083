"""The ALBEF/AMC training step at ALBEF-base sizes, today's code beside a reference commit.

Issue 14: the AMC step (ITC + ITM + MLM + AMC, AdamW) of ALBEF-base with random weights,
batch 4, 256 px, 12-token captions, queue 256, on the CPU. Two worker processes build the
same model from the same seed, one from this checkout and one from the code at a reference
commit (``git archive`` into a temporary folder, imported there only; default ``4a0ef3d``,
the code the issue measured), and take their steps in turn (medians of the alternating
steps). Printed, in one run:

- the step in float32 and under ``torch.autocast('cpu', torch.bfloat16)`` (the
  ``tools/train.py --amp`` path: float32 weights, gradients and AdamW), with and without
  AMC, for both codes; today ÷ reference, and today ÷ official, converted with the issue's
  side-by-side measurement of the official code (9.84 s) and the reference (9.12 s): the
  official code cannot run here, so "÷ official" = today ÷ (reference × 9.84 / 9.12);
- the AMC overhead (AMC step ÷ plain step) of both codes;
- each step's achieved FLOP rate (matrix products, convolutions and attention kernels
  counted by ``torch.utils.flop_counter.FlopCounterMode``, forward, backward and the AMC
  double backward) as a share of a same-run GEMM of the same precision in the same process;
- pointing evaluation of 32 phrases of one image: batched (one pass) ÷ one phrase per pass,
  and the largest difference between the two sets of maps.

    OMP_NUM_THREADS=2 python benchmarks/amc_step.py [--repeats 3] [--reference 4a0ef3d] \
        [--no-reference] [--dtypes float32 bfloat16] [--optimizer-config CONFIG] \
        [--same-optimizer]

Today's optimizer is the one the AMC paper config trains with, built from its
``optim_wrapper.optimizer`` (default ``configs/amc/albef_vg.py``: Adam, lr 1e-5,
``fused=True``); the reference's is the issue's, ``torch.optim.AdamW(lr=1e-5)`` with torch's
default per-parameter loop (the official code's optimizer). Each step is timed twice: wall
clock and the worker's CPU time (``time.process_time``); on a machine shared with other jobs
the CPU time of a worker with a fixed thread count is the steadier of the two. The table
gives medians over the repeats, and the ratios come with their spread (min-max over the
pairs of alternating steps).

Measured (2026-12-03, ``OMP_NUM_THREADS=1 python benchmarks/amc_step.py``, 3 alternating
steps per setting, machine shared with other jobs, load average 3.6): AMC step at 89993da ÷
4a0ef3d, CPU time, median [min, max] of the 3 pairs: float32 0.870x [0.865, 0.968] (0.807x
official), bfloat16 0.315x (0.292x official); AMC overhead 0.989x (float32); float32 step at
82 % of the same-run GEMM rate. The same run at 880c147 (before the merged passes): 0.858x
(0.795x official). ``--reference 880c147 --same-optimizer``-style A/B, 89993da ÷ 880c147:
0.971x [0.926, 0.995]. Tables and earlier runs: docs/get_started.md, "Training with
bfloat16".
"""

import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
WORDS = (
    'a the man woman dog cat red blue green shirt left right on in with small large '
    'standing sitting next to holding ball car tree sky grass water'
).split()
# the side-by-side measurement (ALBEF-base, batch 4, 256 px, 2 threads): the
# official AMC step and ours at the reference commit
OFFICIAL_S, REFERENCE_S = 9.84, 9.12
MODES = ('plain', 'amc')


# ----------------------------------------------------------------------------- the worker
def albef_base(vocab_file: str, *, img_size: int, queue_size: int) -> dict:
    bert = dict(vocab_size=30522, hidden_size=768, num_attention_heads=12, intermediate_size=3072)
    return dict(
        type='ALBEFGrounder',
        image_encoder=dict(
            type='VisionTransformer',
            img_size=img_size,
            patch_size=16,
            embed_dim=768,
            depth=12,
            num_heads=12,
        ),
        text_encoder=dict(type='BertTextEncoder', config=bert, num_layers=6),
        fusion=dict(type='ALBEFFusionEncoder', config=bert, num_layers=6),
        tokenizer=dict(vocab_file=vocab_file),
        explainer=dict(type='GradCAMExplainer', target_layer='fusion.layers.2.crossattention.self'),
        amc_loss=dict(type='AMCLoss'),
        queue_size=queue_size,
    )


def make_batch(batch: int, img_size: int, words: int, seed: int = 0):
    import torch
    from mmengine.structures import InstanceData

    from mmgrounding.structures import GroundingDataSample

    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(batch, 3, img_size, img_size, generator=generator)
    samples = []
    for i in range(batch):
        picked = torch.randint(len(WORDS), (words,), generator=generator)
        sample = GroundingDataSample()
        sample.set_metainfo(
            dict(
                caption=' '.join(WORDS[int(j)] for j in picked),
                img_id=str(i),
                img_shape=(img_size, img_size),
            )
        )
        x1, y1 = torch.randint(0, img_size // 2, (2,), generator=generator).tolist()
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[x1, y1, x1 + img_size / 3, y1 + img_size / 3]]),
            labels=torch.tensor([0]),
        )
        samples.append(sample)
    return images, samples


class Worker:
    """One model, optimizer and batch; answers the driver's commands."""

    def __init__(self, args: argparse.Namespace) -> None:
        import torch

        from mmgrounding.registry import MODELS
        from mmgrounding.utils import register_all_modules

        register_all_modules()
        self.torch = torch
        self.tmp = tempfile.mkdtemp()
        vocab = osp.join(self.tmp, 'vocab.txt')
        with open(vocab, 'w') as f:
            f.write('\n'.join(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] + WORDS))
        torch.manual_seed(0)
        self.model = MODELS.build(
            albef_base(vocab, img_size=args.img_size, queue_size=args.queue_size)
        )
        self.amc_loss = self.model.amc_loss
        params = [p for p in self.model.parameters() if p.requires_grad]
        if args.optimizer == 'reference':  # the issue's: AdamW, torch's default loop
            self.optimizer = torch.optim.AdamW(params, lr=1e-5)
        else:  # what a config trains with
            from mmengine.config import Config
            from mmengine.registry import OPTIMIZERS

            cfg = Config.fromfile(args.optimizer).optim_wrapper.optimizer.to_dict()
            self.optimizer = OPTIMIZERS.build(dict(cfg, params=params))
        # 10 words: [CLS] + 10 + [SEP] = 12 tokens
        self.images, self.samples = make_batch(args.batch_size, args.img_size, args.words - 2)
        self.steps = 0

    def _step(self, mode: str, dtype: str) -> None:
        torch = self.torch
        self.model.amc_loss = self.amc_loss if mode == 'amc' else None
        torch.manual_seed(self.steps)
        self.steps += 1
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=dtype == 'bfloat16'):
            losses = self.model.loss(self.images, self.samples)
            loss = sum(v.float() for v in losses.values())
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

    def step(self, mode: str, dtype: str) -> list:
        """[wall-clock s, CPU s] of one step."""
        start, cpu = time.perf_counter(), time.process_time()
        self._step(mode, dtype)
        return [time.perf_counter() - start, time.process_time() - cpu]

    def optimizer_name(self) -> str:
        fused = self.optimizer.defaults.get('fused')
        return f'{type(self.optimizer).__name__}(fused={bool(fused)})'

    def flops(self, mode: str, dtype: str) -> int:
        from torch.utils.flop_counter import FlopCounterMode

        counter = FlopCounterMode(display=False)
        with counter:
            self._step(mode, dtype)
        return counter.get_total_flops()

    def gemm(self, dtype: str, repeats: int = 10) -> float:
        """FLOP/s of a (1028 x 768) @ (768 x 3072) product (the ViT-B MLP at batch 4)."""
        torch = self.torch
        a = torch.randn(1028, 768, dtype=getattr(torch, dtype))
        b = torch.randn(768, 3072, dtype=getattr(torch, dtype))
        a @ b
        best = float('inf')
        for _ in range(3):  # CPU time, as the steps' shares are computed from theirs
            start = time.process_time()
            for _ in range(repeats):
                a @ b
            best = min(best, time.process_time() - start)
        return 2 * 1028 * 768 * 3072 * repeats / best

    def pointing(self, phrases: int) -> dict:
        torch = self.torch
        model = self.model.eval()
        image = torch.randn(
            1,
            3,
            self.images.shape[-2],
            self.images.shape[-1],
            generator=torch.Generator().manual_seed(1),
        )
        texts = [' '.join(WORDS[(i + j) % len(WORDS)] for j in range(3)) for i in range(phrases)]
        start = time.perf_counter()
        batched = model.explain_phrases(image, texts)
        t_batched = time.perf_counter() - start
        start = time.perf_counter()
        single = torch.cat([model.explain_phrases(image, [p]) for p in texts])
        t_single = time.perf_counter() - start
        model.train()
        return dict(batched=t_batched, single=t_single, diff=float((batched - single).abs().max()))


def worker_main(args: argparse.Namespace) -> None:
    # answers go to the real stdout; anything the libraries print goes to stderr
    out = os.fdopen(os.dup(1), 'w', buffering=1)
    os.dup2(2, 1)
    worker = Worker(args)
    out.write(json.dumps(dict(ready=True)) + '\n')
    for line in sys.stdin:
        command = json.loads(line)
        name = command.pop('cmd')
        if name == 'quit':
            break
        out.write(json.dumps(dict(result=getattr(worker, name)(**command))) + '\n')
    shutil.rmtree(worker.tmp, ignore_errors=True)


# ----------------------------------------------------------------------------- the driver
def reference_tree(ref: str, dest: str) -> str:
    """The ``mmgrounding`` package at commit ``ref`` extracted under ``dest``."""
    archive = subprocess.run(
        ['git', '-C', ROOT, 'archive', ref, 'mmgrounding'], capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise RuntimeError(f'git archive {ref} failed: {archive.stderr.decode().strip()}')
    subprocess.run(['tar', '-x', '-C', dest], input=archive.stdout, check=True)
    return dest


class Client:
    """A worker process importing ``mmgrounding`` from ``src``."""

    def __init__(self, src: str, args: argparse.Namespace, optimizer: str) -> None:
        # the editable install's finder would import this checkout's package: drop it, so
        # that the package comes from ``src`` only
        boot = (
            'import sys; sys.meta_path[:] = [f for f in sys.meta_path '
            "if '__editable__' not in getattr(f, '__module__', '')]; "
            f'sys.path.insert(0, {src!r}); import runpy; '
            f'runpy.run_path({osp.abspath(__file__)!r}, run_name="__main__")'
        )
        argv = [
            '--worker',
            '--img-size',
            str(args.img_size),
            '--batch-size',
            str(args.batch_size),
            '--words',
            str(args.words),
            '--queue-size',
            str(args.queue_size),
            '--optimizer',
            optimizer,
        ]
        self.proc = subprocess.Popen(
            [sys.executable, '-c', boot, *argv],
            cwd=src,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._read()

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f'worker {self.proc.pid} ended (exit {self.proc.wait()})')
        return json.loads(line).get('result')

    def __call__(self, cmd: str, **kwargs):
        self.proc.stdin.write(json.dumps(dict(cmd=cmd, **kwargs)) + '\n')
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write(json.dumps(dict(cmd='quit')) + '\n')
            self.proc.stdin.flush()
            self.proc.wait()


def median(values: list) -> float:
    values = sorted(values)
    return values[len(values) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=3, help='timed steps per setting')
    parser.add_argument('--reference', default='4a0ef3d', help='git commit to compare with')
    parser.add_argument('--no-reference', action='store_true', help="time today's code only")
    parser.add_argument(
        '--dtypes', nargs='+', default=['float32', 'bfloat16'], choices=['float32', 'bfloat16']
    )
    parser.add_argument(
        '--optimizer-config',
        default=osp.join(ROOT, 'configs', 'amc', 'albef_vg.py'),
        help="the config whose optim_wrapper.optimizer today's step uses",
    )
    parser.add_argument(
        '--same-optimizer',
        action='store_true',
        help="the reference also steps with --optimizer-config's optimizer (an A/B of two "
        'commits; the "÷ official" line then does not apply)',
    )
    parser.add_argument('--img-size', type=int, default=256)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--words', type=int, default=12, help='tokens per caption')
    parser.add_argument('--queue-size', type=int, default=256)
    parser.add_argument('--phrases', type=int, default=32)
    parser.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--optimizer', default='reference', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main(args)
        return

    import torch

    tmp = tempfile.mkdtemp(prefix='amc_step_')
    clients = {}
    load_before = os.getloadavg()
    try:
        clients['today'] = Client(ROOT, args, osp.abspath(args.optimizer_config))
        if not args.no_reference:
            ref_optimizer = (
                osp.abspath(args.optimizer_config) if args.same_optimizer else 'reference'
            )
            clients['reference'] = Client(reference_tree(args.reference, tmp), args, ref_optimizer)
        optimizers = {code: client('optimizer_name') for code, client in clients.items()}
        settings = [(mode, dtype) for dtype in args.dtypes for mode in MODES]
        # times[code, mode, dtype]: [wall, cpu] per repeat
        times = {(code, *s): [] for code in clients for s in settings}
        for mode, dtype in settings:  # warm-up
            for client in clients.values():
                client('step', mode=mode, dtype=dtype)
        for r in range(args.repeats):
            for mode, dtype in settings:
                # alternate which code goes first, so that neither always follows the other
                order = list(clients.items())
                for code, client in order if r % 2 == 0 else order[::-1]:
                    times[code, mode, dtype].append(client('step', mode=mode, dtype=dtype))
        flops = {
            (code, *s): client('flops', mode=s[0], dtype=s[1])
            for code, client in clients.items()
            for s in settings
        }
        gemm = {dtype: clients['today']('gemm', dtype=dtype) for dtype in args.dtypes}
        pointing = clients['today']('pointing', phrases=args.phrases)
    finally:
        for client in clients.values():
            client.close()
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()
    wall = {key: median([t[0] for t in values]) for key, values in times.items()}
    cpu = {key: median([t[1] for t in values]) for key, values in times.items()}

    print(
        f'ALBEF-base, random weights, batch {args.batch_size}, {args.img_size} px, '
        f'{args.words} tokens, queue {args.queue_size}, ITC + ITM + MLM (+ AMC); '
        f'threads: {torch.get_num_threads()}; medians of {args.repeats} alternating steps; '
        f'load average {load_before[0]:.1f} before, {load_after[0]:.1f} after '
        f'({os.cpu_count()} CPUs)'
    )
    ref = None if args.no_reference else args.reference
    print(
        'optimizers: '
        + ', '.join(
            f'{ref if code == "reference" else "today"} {name}' for code, name in optimizers.items()
        )
        + f' (today from {osp.relpath(args.optimizer_config, ROOT)})'
    )
    print(
        '\n| code | precision | step without AMC (s, wall / CPU) | step with AMC (s, wall / CPU) '
        '| AMC overhead (CPU) | GFLOP (AMC step) | share of the same-run GEMM rate (CPU) |'
    )
    print('|---|---|---|---|---|---|---|')
    for code in clients:
        for dtype in args.dtypes:
            plain, amc = (code, 'plain', dtype), (code, 'amc', dtype)
            rate = flops[amc] / cpu[amc]
            print(
                f'| {ref if code == "reference" else "today"} | {dtype} '
                f'| {wall[plain]:.2f} / {cpu[plain]:.2f} | {wall[amc]:.2f} / {cpu[amc]:.2f} '
                f'| {cpu[amc] / cpu[plain]:.3f}x | {flops[amc] / 1e9:.0f} '
                f'| {100 * rate / gemm[dtype]:.0f}% of {gemm[dtype] / 1e9:.0f} GFLOP/s |'
            )
    if ref:
        official = OFFICIAL_S / REFERENCE_S
        print(
            f'\nAMC step, today ÷ {ref} float32 per pair of alternating steps, median [min, max]'
            f" (÷ official = ÷ ({ref} × {OFFICIAL_S} / {REFERENCE_S}), the issue's side-by-side"
            ' ratio; the official code cannot run here):'
        )
        base = times['reference', 'amc', 'float32']
        for dtype in args.dtypes:
            ours = times['today', 'amc', dtype]
            for k, clock in enumerate(('wall', 'CPU')):
                ratios = sorted(a[k] / b[k] for a, b in zip(ours, base))
                mid = median(ratios)
                print(
                    f'- {dtype}, {clock}: {mid:.3f}x {ref} [{ratios[0]:.3f}, {ratios[-1]:.3f}], '
                    f'{mid / official:.3f}x official [{ratios[0] / official:.3f}, '
                    f'{ratios[-1] / official:.3f}]'
                )
    print(
        f'\npointing evaluation, {args.phrases} phrases of one image: batched '
        f'{args.phrases / pointing["batched"]:.1f} phrases/s, one per pass '
        f'{args.phrases / pointing["single"]:.1f} phrases/s, ratio '
        f'{pointing["single"] / pointing["batched"]:.1f}x, max |difference| '
        f'{pointing["diff"]:.2e}'
    )


if __name__ == '__main__':
    main()
