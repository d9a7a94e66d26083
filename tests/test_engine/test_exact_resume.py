"""kill -9 and --resume give bitwise the run that was never interrupted (issue 14, part 2).

A tiny ALBEF+AMC trains through tools/train.py on SynthGround with every random stream in
play: the shuffled sampler, random flips and colour jitter (numpy's generator in the main
process, or in dataloader workers), BERT dropout, ALBEF's sampled hard negatives and MLM
masks, the feature queues, and a validation right after the checkpoint the run is resumed
from (which the resumed run does not repeat). The interrupted run is killed with SIGKILL,
launcher and ranks alike, after that checkpoint; the resumed run must end with the same
weights, optimizer state and validation metrics, bit for bit.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
AMC_CONFIG = str(REPO / 'configs/amc/amc_albef-tiny_1xb32-6e_synthground.py')
MAX_ITERS, CKPT_EVERY, KILL_AFTER = 12, 6, 8  # checkpoint + validation at 6; killed after 8


def write_config(tmp_path: Path, root: str, *, epoch_based: bool, workers: int) -> Path:
    from mmgrounding.datasets.synthground.vocab import collect_texts, train_vocab

    vocab = str(tmp_path / 'vocab.txt')
    train_vocab(collect_texts(root), vocab)
    with open(vocab) as f:
        vocab_size = sum(1 for _ in f)
    if epoch_based:  # one epoch of MAX_ITERS batches; the checkpoint is mid-epoch
        loop = "dict(_delete_=True, type='EpochBasedTrainLoop', max_epochs=1, val_interval=1)"
    else:
        loop = (
            f"dict(_delete_=True, type='IterBasedTrainLoop', max_iters={MAX_ITERS}, "
            f'val_interval={CKPT_EVERY})'
        )
    config = tmp_path / 'resume_tiny.py'
    config.write_text(f"""
_base_ = [{AMC_CONFIG!r}]
data_root = {root!r}
bert = dict(vocab_size={vocab_size}, hidden_size=32, num_attention_heads=2,
            intermediate_size=64, max_position_embeddings=64)
model = dict(  # the config's 96 px in 24 px patches: a 4x4 grid
    image_encoder=dict(img_size=96, patch_size=24, embed_dim=32, depth=1, num_heads=2),
    text_encoder=dict(config=bert, num_layers=1),
    fusion=dict(config=bert, num_layers=1),
    tokenizer=dict(vocab_file={vocab!r}), embed_dim=16, queue_size=16, max_text_length=16)
train_pipeline = [  # the config's, with random flips and colour jitter
    dict(type='LoadImageFromFile'),
    dict(type='LoadGroundingAnnotations'),
    dict(type='RandomFlipWithText', prob=0.5),
    dict(type='GroundingColorJitter', prob=0.8),
    dict(type='Resize', scale=(96, 96), keep_ratio=False),
    dict(type='PackGroundingInputs'),
]
train_dataloader = dict(
    batch_size=4, num_workers={workers}, persistent_workers={workers > 0},
    dataset=dict(data_root=data_root, sources=('objects', ), indices={4 * MAX_ITERS},
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = {loop}
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10)]
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(by_epoch=False, interval={CKPT_EVERY}, max_keep_ckpts=-1, save_last=True))
log_processor = dict(window_size=1, by_epoch=False)
visualizer = dict(vis_backends=[dict(type='LocalVisBackend')])
""")
    return config


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (from /proc), for a kill of a whole launch."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open(f'/proc/{entry}/stat') as f:
                    ppid = int(f.read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def train(
    config: Path,
    work_dir: Path,
    *,
    nproc: int,
    port: str,
    resume=False,
    kill_after: int | None = None,
) -> str:
    """Run tools/train.py; with ``kill_after``, SIGKILL it (every process of the launch) as
    soon as it logged that iteration."""
    tool = ['tools/train.py', str(config), '--work-dir', str(work_dir)]
    if nproc > 1:
        cmd = [
            sys.executable,
            '-m',
            'torch.distributed.run',
            f'--nproc_per_node={nproc}',
            f'--master_port={port}',
            *tool,
            '--launcher',
            'pytorch',
        ]
    else:
        cmd = [sys.executable, *tool]
    if resume:
        cmd.append('--resume')
    work_dir.mkdir(parents=True, exist_ok=True)
    log_path = work_dir / f'stdout_{int(time.time() * 1000)}.txt'
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        pattern = re.compile(rf'Iter\(train\) \[\s*{kill_after}/' if kill_after else r'$^')
        deadline = time.time() + 300
        while proc.poll() is None and time.time() < deadline:
            if kill_after and pattern.search(log_path.read_text()):
                for pid in descendants(proc.pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                break
            time.sleep(0.02)
        proc.wait(timeout=60)
    text = log_path.read_text()
    if kill_after:
        assert proc.returncode == -signal.SIGKILL, text[-3000:]
    else:
        assert proc.returncode == 0, text[-4000:]
    return text


def final_metrics(work_dir: Path) -> dict:
    """The metrics of the last validation logged in ``work_dir``, in full precision."""
    rows = []
    for path in sorted(work_dir.glob('*/vis_data/scalars.json')):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if 'pointing/accuracy' in row:
                rows.append({k: v for k, v in row.items() if '/' in k})  # not time, step
    assert rows, f'no validation logged in {work_dir}'
    return rows[-1]


def assert_same_state(reference: Path, resumed: Path) -> None:
    one = torch.load(reference, map_location='cpu', weights_only=True)
    two = torch.load(resumed, map_location='cpu', weights_only=True)
    assert one['meta']['iter'] == two['meta']['iter'] == MAX_ITERS
    assert one['state_dict'].keys() == two['state_dict'].keys()
    differ = [
        k for k in one['state_dict'] if not torch.equal(one['state_dict'][k], two['state_dict'][k])
    ]
    assert not differ, f'{len(differ)} tensors differ, e.g. {differ[:5]}'
    for a, b in zip(one['optimizer']['state'].values(), two['optimizer']['state'].values()):
        assert all(torch.equal(a[k], b[k]) for k in a)
    # the hook saved every rank's generators
    assert len(two['rng_states']['states']) == two['rng_states']['world_size']


def check_kill_and_resume(tmp_path, root, port, *, nproc=1, epoch_based=False, workers=0):
    config = write_config(tmp_path, root, epoch_based=epoch_based, workers=workers)
    straight, broken = tmp_path / 'straight', tmp_path / 'broken'
    train(config, straight, nproc=nproc, port=port)
    log = train(config, broken, nproc=nproc, port=port, kill_after=KILL_AFTER)
    assert (broken / f'iter_{CKPT_EVERY}.pth').is_file()
    assert not (broken / f'iter_{MAX_ITERS}.pth').exists(), 'the kill came too late'
    log = train(config, broken, nproc=nproc, port=port, resume=True)
    assert f'resumed epoch: 0, iter: {CKPT_EVERY}' in log
    assert_same_state(straight / f'iter_{MAX_ITERS}.pth', broken / f'iter_{MAX_ITERS}.pth')
    assert final_metrics(straight) == final_metrics(broken)


@pytest.mark.parametrize(
    'epoch_based,workers',
    [(False, 0), (True, 1)],
    ids=['iter-loop-main-process-data', 'epoch-loop-mid-epoch-worker'],
)
def test_sigkill_then_resume_equals_uninterrupted(
    tmp_path, synthground_root, free_port, epoch_based, workers
):
    check_kill_and_resume(
        tmp_path, synthground_root, free_port, epoch_based=epoch_based, workers=workers
    )


def test_sigkill_then_resume_equals_uninterrupted_two_gloo_processes(
    tmp_path, synthground_root, free_port
):
    check_kill_and_resume(tmp_path, synthground_root, free_port, nproc=2)
