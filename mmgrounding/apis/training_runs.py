"""The training of runs: ``tools/train.py`` processes, ``processes`` at a time, each logging to
``<work_dir>/train.log`` and reporting progress to ``<work_dir>/progress.jsonl`` (a
:class:`ProgressReportHook` that :func:`with_progress_hook` adds, followed by the displays of
:mod:`mmgrounding.apis.progress`).

A training whose final checkpoint is present is reused, an interrupted one is resumed
(``--resume``), and a work dir holding a training of another config or another SynthGround build
is refused. Each finished training is recorded in ``<work_dir>/experiment.json`` with its
checkpoint's file and weights hashes.
"""

import dataclasses
import json
import os
import os.path as osp
import subprocess
import sys
import time
from collections import OrderedDict
from collections.abc import Sequence

from mmengine.config import Config

from mmgrounding.utils.atomic import atomic_open, atomic_write_json
from mmgrounding.utils.hashing import file_sha256

from .builds import BUILD_FILE, check_same_build
from .progress import PROGRESS_FILE
from .runs import REPO_ROOT, Run

TRAIN_SCRIPT = osp.join(REPO_ROOT, 'tools', 'train.py')
# the config as the runner dumped it, before tools/train.py adds its own settings (MMEngine
# writes that version to <work_dir>/config.py)
CONFIG_FILE = osp.join('experiment', 'config.py')
RECORD_FILE = 'experiment.json'


def final_checkpoint(cfg: Config) -> str:
    """The checkpoint the training of ``cfg`` ends with (``iter_N.pth`` or ``epoch_N.pth``)."""
    train_cfg = cfg.get('train_cfg') or {}
    if 'max_iters' in train_cfg:
        name = f'iter_{train_cfg.max_iters}.pth'
    elif 'max_epochs' in train_cfg:
        by_epoch = cfg.default_hooks.checkpoint.get('by_epoch', True)
        if not by_epoch:
            raise ValueError('an epoch-based loop with by_epoch=False checkpoints')
        name = f'epoch_{train_cfg.max_epochs}.pth'
    else:
        raise ValueError(f'{cfg.filename}: train_cfg has neither max_iters nor max_epochs')
    return osp.join(cfg.work_dir, name)


def _last_checkpoint(work_dir: str) -> str | None:
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return f.read().strip() or None


def training_state(cfg: Config) -> str:
    """``'done'`` (the final checkpoint is written and MMEngine recorded it as the last one),
    ``'interrupted'`` (an earlier checkpoint is recorded) or ``'new'``."""
    last = _last_checkpoint(cfg.work_dir)
    if last is None:
        return 'new'
    final = final_checkpoint(cfg)
    if osp.abspath(last) == osp.abspath(final) and osp.isfile(final):
        return 'done'
    return 'interrupted' if osp.isfile(last) else 'new'


def with_progress_hook(cfg: Config) -> Config:
    """``cfg`` with a :class:`ProgressReportHook` writing ``<work_dir>/progress.jsonl``."""
    hooks = [h for h in cfg.get('custom_hooks') or [] if h.get('type') != 'ProgressReportHook']
    hooks.append(
        dict(
            type='ProgressReportHook', file=osp.join(cfg.work_dir, PROGRESS_FILE), min_interval=0.5
        )
    )
    cfg.custom_hooks = hooks
    return cfg


@dataclasses.dataclass
class TrainResult:
    key: str
    status: str  # 'trained', 'resumed' or 'reused'
    checkpoint: str
    checkpoint_sha256: str
    weights_sha256: str
    seconds: float | None  # training time (of the earlier call when reused; None: unknown)
    threads: int


def weights_sha256(checkpoint: str) -> str:
    """sha256 over the state dict's names, dtypes, shapes and bytes (sorted by name).

    Unlike the file's hash it ignores the checkpoint's metadata (time stamps, the run name),
    so two trainings that end with the same weights have the same digest.
    """
    import hashlib

    import torch

    from mmgrounding.utils.compat import load_local_checkpoint

    # the safe loader admits what MMEngine's own checkpoints hold (message hub, history buffers)
    state = load_local_checkpoint(checkpoint, map_location='cpu')
    state = state.get('state_dict', state)
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name]
        if not isinstance(tensor, torch.Tensor):
            continue
        tensor = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f'{name}|{tensor.dtype}|{tuple(state[name].shape)}|'.encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _check_same_config(cfg: Config, config_file: str) -> None:
    """Refuse to resume or reuse a work dir whose training used another config."""
    if not osp.isfile(config_file):
        return
    with open(config_file) as f:
        old = f.read()
    if old != cfg.pretty_text:
        raise RuntimeError(
            f'{cfg.work_dir} holds a training of another config ({config_file} differs from '
            'the config this run would train); remove the folder or choose another work dir'
        )


def _record(run: Run, result: TrainResult) -> None:
    atomic_write_json(
        osp.join(run.work_dir, RECORD_FILE),
        dict(
            dataclasses.asdict(result),
            config=run.experiment.config,
            cfg_options=run.experiment.cfg_options,
            seed=run.seed,
            build=run.build,
        ),
        indent=2,
    )


def _reused(run: Run, threads: int) -> TrainResult:
    checkpoint = final_checkpoint(run.cfg)
    record_file = osp.join(run.work_dir, RECORD_FILE)
    if osp.isfile(record_file):
        with open(record_file) as f:
            record = json.load(f)
        if record.get('checkpoint') == checkpoint and record.get(
            'checkpoint_sha256'
        ) == file_sha256(checkpoint):
            return TrainResult(
                run.key,
                'reused',
                checkpoint,
                record['checkpoint_sha256'],
                record['weights_sha256'],
                record.get('seconds'),
                record.get('threads', threads),
            )
    result = TrainResult(
        run.key,
        'reused',
        checkpoint,
        file_sha256(checkpoint),
        weights_sha256(checkpoint),
        None,
        threads,
    )
    _record(run, result)
    return result


def start_training(run: Run, *, threads: int, resume: bool) -> subprocess.Popen:
    """``tools/train.py`` on the run's config (dumped to its work dir), logging to train.log."""
    config_file = osp.join(run.work_dir, CONFIG_FILE)
    os.makedirs(osp.dirname(config_file), exist_ok=True)
    with atomic_open(config_file, 'w') as f:
        f.write(run.cfg.pretty_text)
    if run.build is not None:
        atomic_write_json(osp.join(run.work_dir, BUILD_FILE), run.build, indent=2)
    progress = osp.join(run.work_dir, PROGRESS_FILE)
    if not resume and osp.isfile(progress):
        os.remove(progress)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    command = [sys.executable, TRAIN_SCRIPT, config_file, '--work-dir', run.work_dir]
    if resume:
        command.append('--resume')
    with open(osp.join(run.work_dir, 'train.log'), 'a' if resume else 'w') as log:
        # the caller's working directory: the configs' relative paths (data_root, work_dir)
        # mean the same in both processes
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)


def train_all(
    runs: Sequence[Run],
    *,
    processes: int = 2,
    threads: int = 1,
    display=None,
    poll_seconds: float = 0.5,
) -> dict[str, TrainResult]:
    """Train every run that needs it, ``processes`` at a time; reuse the finished ones.

    Args:
        runs: runs of experiments with ``train=True``.
        processes: trainings running at the same time.
        threads: ``OMP_NUM_THREADS`` of each training (a run's own ``threads`` wins).
        display: a :class:`mmgrounding.apis.progress.TrainingDisplay` (or None).

    Returns:
        ``{run key: TrainResult}`` in the order of ``runs``.

    Raises:
        RuntimeError: a training failed (with the end of its log) or a work dir holds a
            training of another config or of another SynthGround build (a run's ``build``).
            The trainings this call started are stopped first.
    """
    results: dict[str, TrainResult] = {}
    pending: list[tuple[Run, bool]] = []
    for run in with_hooks(runs):
        state = training_state(run.cfg)
        config_file = osp.join(run.work_dir, CONFIG_FILE)
        if state != 'new':
            _check_same_config(run.cfg, config_file)
            check_same_build(run)
        if state == 'done':
            results[run.key] = _reused(run, run.threads or threads)
            if display is not None:
                display.reused(run)
        else:
            pending.append((run, state == 'interrupted'))
            if display is not None:
                display.waiting(run)
    running: list[tuple[Run, subprocess.Popen, float, bool]] = []
    try:
        while pending or running:
            while pending and len(running) < processes:
                run, resume = pending.pop(0)
                proc = start_training(run, threads=run.threads or threads, resume=resume)
                running.append((run, proc, time.perf_counter(), resume))
                if display is not None:
                    display.started(run, resume=resume)
            time.sleep(poll_seconds)
            if display is not None:
                for run, *_ in running:
                    display.poll(run)
            for item in [item for item in running if item[1].poll() is not None]:
                running.remove(item)
                run, proc, start, resume = item
                if display is not None:
                    display.poll(run)
                log_file = osp.join(run.work_dir, 'train.log')
                if proc.returncode != 0:
                    with open(log_file) as f:
                        tail = f.read()[-3000:]
                    raise RuntimeError(
                        f'training {run.work_dir} failed (exit code '
                        f'{proc.returncode}, {log_file}):\n{tail}'
                    )
                if training_state(run.cfg) != 'done':
                    raise RuntimeError(
                        f'training {run.work_dir} ended without its final '
                        f'checkpoint {final_checkpoint(run.cfg)} ({log_file})'
                    )
                checkpoint = final_checkpoint(run.cfg)
                result = TrainResult(
                    run.key,
                    'resumed' if resume else 'trained',
                    checkpoint,
                    file_sha256(checkpoint),
                    weights_sha256(checkpoint),
                    time.perf_counter() - start,
                    run.threads or threads,
                )
                _record(run, result)
                results[run.key] = result
                if display is not None:
                    display.finished(run, result)
    finally:  # an error or Ctrl-C stops the trainings this function started
        for _, proc, _, _ in running:
            proc.terminate()
            proc.wait()
    return OrderedDict((run.key, results[run.key]) for run in runs)


def with_hooks(runs: Sequence[Run]) -> list[Run]:
    for run in runs:
        with_progress_hook(run.cfg)
    return list(runs)
