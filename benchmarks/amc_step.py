"""The ALBEF/AMC training step at ALBEF-base sizes: today's code beside the official step.

Issue 14: the AMC step (ITC + ITM + MLM + AMC) of ALBEF-base with random weights, batch 4,
256 px, 12-token captions, queue 256, on the CPU. Worker processes build the model from the
same seed and take their steps in turn on the same batch (medians of the alternating steps):

- ``today``: ``ALBEFGrounder`` of this checkout, with the optimizer of
  ``--optimizer-config``'s ``optim_wrapper.optimizer`` (default ``configs/amc/albef_vg.py``:
  AdamW, lr 1e-5, wd 0.02, ``fused=True``), in float32 and under
  ``torch.autocast('cpu', torch.bfloat16)`` (the ``tools/train.py --amp`` path);
- ``official``: the official ALBEF pretraining step with AMC's Grad-CAM box losses
  (``benchmarks/official_albef.py``, a pure-torch re-implementation of ALBEF's
  ``vit.py`` / ``xbert.py`` and AMC-grounding's ``model_pretrain.py`` / ``Pretrain.py``, checked
  against ALBEFGrounder on converted weights by ``tests/test_benchmarks``), with the official
  optimizer (timm's AdamW parameter groups, torch's per-parameter loop), float32 only as the
  official code trains; ``--no-official`` skips it;
- ``--reference COMMIT`` (optional): the code at that commit (``git archive`` into a temporary
  folder, imported there only), with the official optimizer unless ``--same-optimizer``.

Printed, in one run: each code's step without and with AMC (wall clock and the worker's CPU
time, ``time.process_time``: on a shared machine the CPU time of a worker with a fixed thread
count is the steadier), the AMC overhead (AMC step ÷ plain step), each step's achieved FLOP
rate (``torch.utils.flop_counter.FlopCounterMode``: forward, backward and the AMC double
backward) as a share of a same-run GEMM of the same precision; today ÷ official (and ÷
reference) per pair of alternating steps, median [min, max], for both steps and precisions;
and pointing evaluation of 32 phrases of one image, batched ÷ one phrase per pass, with the
largest difference between the two sets of maps.

    OMP_NUM_THREADS=1 python benchmarks/amc_step.py [--repeats 3] [--no-official] \
        [--reference COMMIT [--same-optimizer]] [--dtypes float32 bfloat16] \
        [--optimizer-config CONFIG]

The measurements and their machine are in docs/get_started.md ("Training with bfloat16 and
speed").
"""

import argparse
import inspect
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
        cfg = albef_base(vocab, img_size=args.img_size, queue_size=args.queue_size)
        if 'fast_teacher' in inspect.signature(MODELS.get('ALBEFGrounder')).parameters:
            cfg['fast_teacher'] = True  # as configs/_base_/models/albef_base.py (a --reference
            # commit before the option has the exact path only)
        self.model = MODELS.build(cfg)
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


class OfficialWorker:
    """The official ALBEF/AMC step (``benchmarks/official_albef.py``) on the same batch."""

    def __init__(self, args: argparse.Namespace) -> None:
        import torch
        from transformers import BertTokenizerFast

        sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
        import official_albef

        self.torch, self.official = torch, official_albef
        self.tmp = tempfile.mkdtemp()
        vocab = osp.join(self.tmp, 'vocab.txt')
        with open(vocab, 'w') as f:
            f.write('\n'.join(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] + WORDS))
        tokenizer = BertTokenizerFast(vocab_file=vocab)
        torch.manual_seed(0)
        self.model = official_albef.ALBEF(
            tokenizer,
            config=dict(
                image_res=args.img_size, queue_size=args.queue_size, mask_size=args.img_size
            ),
        )
        self.optimizer = official_albef.create_optimizer(self.model)  # AdamW, lr 1e-5, wd 0.02
        self.images, samples = make_batch(args.batch_size, args.img_size, args.words - 2)
        # Pretrain.py: tokenizer(..., padding='longest', truncation=True, max_length=25)
        tokens = tokenizer(
            [s.metainfo['caption'] for s in samples],
            padding='longest',
            truncation=True,
            max_length=25,
            return_tensors='pt',
        )
        self.text = dict(input_ids=tokens['input_ids'], attention_mask=tokens['attention_mask'])
        boxes = [s.gt_instances.bboxes[0].tolist() for s in samples]
        self.box_masks = official_albef.box_masks(boxes, args.img_size)
        self.indicator = torch.ones(args.batch_size, 1, dtype=torch.long)
        self.steps = 0

    def _step(self, mode: str, dtype: str) -> None:
        if dtype != 'float32':
            raise ValueError('the official code trains in float32')
        amc = mode == 'amc'
        self.model.add_gcam = amc  # config add_gcam; Pretrain.py sets save_attention with it
        self.model._explained().save_attention = amc
        self.torch.manual_seed(self.steps)
        self.steps += 1
        self.official.train_step(
            self.model,
            self.optimizer,
            self.images,
            self.text,
            alpha=0.4,
            mask_query_interp=self.box_masks if amc else None,
            gt_mask_indicator=self.indicator if amc else None,
        )

    step, flops = Worker.step, Worker.flops

    def optimizer_name(self) -> str:
        return f'{type(self.optimizer).__name__}(foreach={self.optimizer.defaults.get("foreach")})'


def worker_main(args: argparse.Namespace) -> None:
    # answers go to the real stdout; anything the libraries print goes to stderr
    out = os.fdopen(os.dup(1), 'w', buffering=1)
    os.dup2(2, 1)
    worker = OfficialWorker(args) if args.optimizer == 'official' else Worker(args)
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
    parser.add_argument(
        '--reference', default=None, help='also time the code at this git commit (e.g. 4a0ef3d)'
    )
    parser.add_argument('--no-official', action='store_true', help='do not time the official step')
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
        help="the reference also steps with --optimizer-config's optimizer (an A/B of two commits)",
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
        if not args.no_official:
            clients['official'] = Client(ROOT, args, 'official')
        if args.reference:
            ref_optimizer = (
                osp.abspath(args.optimizer_config) if args.same_optimizer else 'reference'
            )
            clients['reference'] = Client(reference_tree(args.reference, tmp), args, ref_optimizer)
        optimizers = {code: client('optimizer_name') for code, client in clients.items()}
        # the official code trains in float32 only
        dtypes = {code: args.dtypes if code != 'official' else ['float32'] for code in clients}
        settings = [(mode, dtype) for dtype in args.dtypes for mode in MODES]
        # times[code, mode, dtype]: [wall, cpu] per repeat
        times = {(code, *s): [] for code in clients for s in settings if s[1] in dtypes[code]}
        for mode, dtype in settings:  # warm-up
            for code, client in clients.items():
                if dtype in dtypes[code]:
                    client('step', mode=mode, dtype=dtype)
        for r in range(args.repeats):
            for mode, dtype in settings:
                # alternate which code goes first, so that neither always follows the other
                order = [(c, cl) for c, cl in clients.items() if dtype in dtypes[c]]
                for code, client in order if r % 2 == 0 else order[::-1]:
                    times[code, mode, dtype].append(client('step', mode=mode, dtype=dtype))
        flops = {key: clients[key[0]]('flops', mode=key[1], dtype=key[2]) for key in times}
        gemm = {dtype: clients['today']('gemm', dtype=dtype) for dtype in args.dtypes}
        pointing = clients['today']('pointing', phrases=args.phrases)
    finally:
        for client in clients.values():
            client.close()
        shutil.rmtree(tmp, ignore_errors=True)
    load_after = os.getloadavg()
    wall = {key: median([t[0] for t in values]) for key, values in times.items()}
    cpu = {key: median([t[1] for t in values]) for key, values in times.items()}
    names = dict(today='today', official='official', reference=args.reference)

    print(
        f'ALBEF-base, random weights, batch {args.batch_size}, {args.img_size} px, '
        f'{args.words} tokens, queue {args.queue_size}, ITC + ITM + MLM (+ AMC); '
        f'threads: {torch.get_num_threads()}; medians of {args.repeats} alternating steps; '
        f'load average {load_before[0]:.1f} before, {load_after[0]:.1f} after '
        f'({os.cpu_count()} CPUs)'
    )
    print(
        'optimizers: '
        + ', '.join(f'{names[code]} {name}' for code, name in optimizers.items())
        + f' (today from {osp.relpath(args.optimizer_config, ROOT)})'
    )
    print(
        '\n| code | precision | step without AMC (s, wall / CPU) | step with AMC (s, wall / CPU) '
        '| AMC overhead (CPU) | GFLOP (AMC step) | share of the same-run GEMM rate (CPU) |'
    )
    print('|---|---|---|---|---|---|---|')
    for code in clients:
        for dtype in dtypes[code]:
            plain, amc = (code, 'plain', dtype), (code, 'amc', dtype)
            rate = flops[amc] / cpu[amc]
            print(
                f'| {names[code]} | {dtype} '
                f'| {wall[plain]:.2f} / {cpu[plain]:.2f} | {wall[amc]:.2f} / {cpu[amc]:.2f} '
                f'| {cpu[amc] / cpu[plain]:.3f}x | {flops[amc] / 1e9:.0f} '
                f'| {100 * rate / gemm[dtype]:.0f}% of {gemm[dtype] / 1e9:.0f} GFLOP/s |'
            )
    for base_code in ('official', 'reference'):
        if base_code not in clients:
            continue
        print(
            f'\ntoday ÷ {names[base_code]} float32, per pair of alternating steps, '
            'median [min, max]:'
        )
        for mode in MODES:
            base = times[base_code, mode, 'float32']
            for dtype in args.dtypes:
                ours = times['today', mode, dtype]
                for k, clock in enumerate(('wall', 'CPU')):
                    ratios = sorted(a[k] / b[k] for a, b in zip(ours, base))
                    print(
                        f'- {mode} step, {dtype}, {clock}: {median(ratios):.3f}x '
                        f'[{ratios[0]:.3f}, {ratios[-1]:.3f}]'
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
