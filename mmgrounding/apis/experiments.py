"""Train and evaluate experiments: what `make demo`, `make leaderboard` and `make infoground` run.

An :class:`Experiment` is a config with the seeds it is reported over (and, for the leaderboard,
the doc tables it feeds). :func:`train_all` trains the (experiment, seed) pairs that need it as
``tools/train.py`` processes, ``processes`` at a time with ``threads`` threads each, each
logging to ``<work_dir>/train.log``: a training whose final checkpoint is present is reused,
an interrupted one is resumed (``--resume``), and a work dir holding a training of another
config is refused. Every training config gets a :class:`ProgressReportHook`, whose JSON-lines
file (``<work_dir>/progress.jsonl``) the parent follows to draw the live display of
:mod:`mmgrounding.apis.progress`. :func:`evaluate` tests one model on one benchmark split in
this process (the runner's console log goes to ``<eval dir>/test.log``) and returns the
metrics with the protocol of each metric as the built metric objects state it.
"""

import contextlib
import copy
import dataclasses
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import time
from collections import OrderedDict
from collections.abc import Sequence

from mmengine.config import Config

from mmgrounding.utils.atomic import atomic_open, atomic_write_json
from mmgrounding.utils.hashing import file_sha256

from .progress import PROGRESS_FILE, EvalDisplay, TrainingDisplay

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATASETS = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets')
TRAIN_SCRIPT = osp.join(REPO_ROOT, 'tools', 'train.py')
# the config as the runner dumped it, before tools/train.py adds its own settings (MMEngine
# writes that version to <work_dir>/config.py)
CONFIG_FILE = osp.join('experiment', 'config.py')
RECORD_FILE = 'experiment.json'
# the SynthGround build a training used (build_identity), written when it starts
BUILD_FILE = osp.join('experiment', 'build.json')
# the build of a training from before builds were recorded: the default of that time
LEGACY_BUILD = dict(preset='v1', seed=0, num_images=1500, generator_version='1.0.0')

# benchmark split -> (dataset config, overrides of its test dataset)
SUITES = {
    'real': OrderedDict(
        [
            ('Flickr30k', ('flickr30k.py', {})),
            ('RefCOCO+ testA', ('refcoco+.py', dict(split='testA'))),
            ('RefCOCO+ testB', ('refcoco+.py', dict(split='testB'))),
            ('ReferIt', ('referit.py', {})),
        ]
    ),
    'synthground': OrderedDict(
        [
            ('Flickr30k', ('synthground_flickr30k.py', {})),
            ('RefCOCO+ testA', ('synthground_refcoco.py', dict(split='testA'))),
            ('RefCOCO+ testB', ('synthground_refcoco.py', dict(split='testB'))),
            ('ReferIt', ('synthground_referit.py', {})),
            (
                'Flickr30k val',
                ('synthground_flickr30k.py', dict(ann_file='flickr30k_entities/val.txt')),
            ),
        ]
    ),
}
# The ReferIt column of a SynthGround build with a ReferItGame split of its own (v2): its
# refclef files and test split, in place of the RefCOCO-val stand-in of a v1 build.
SYNTHGROUND_OWN_REFERIT = ('synthground_referit_v2.py', {})
SYNTHGROUND_ROOT = 'data/synthground/'  # the configs' data_root


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One model recipe, trained (or, for a fixed baseline, only evaluated) over its seeds.

    Attributes:
        name: unique key (work dir name, key in the results file).
        label: the row name in the tables (``labels`` overrides it per table).
        config: the config file, relative to the repository.
        seeds: ``randomness.seed`` of each run.
        train: ``False`` for models without weights (the baselines).
        cfg_options: config overrides of this recipe (training and test), as
            ``tools/train.py --cfg-options`` takes them.
        tables: the names of the doc tables this experiment is a row of.
        labels: per table, another row name.
        paper: per table, ``{column header: the paper's number}`` (a citation, not a result).
        init_from: ``(experiment, seed)``: every seed of this one starts from the final
            checkpoint of that run (``load_from``), which :func:`run_experiments` trains first
            (or reuses) even when it is not among the experiments asked for (a fine-tune).
    """

    name: str
    label: str
    config: str
    seeds: tuple[int, ...] = (0,)
    train: bool = True
    cfg_options: dict = dataclasses.field(default_factory=dict)
    tables: tuple[str, ...] = ()
    labels: dict = dataclasses.field(default_factory=dict)
    paper: dict = dataclasses.field(default_factory=dict)
    init_from: tuple['Experiment', int] | None = None

    def label_in(self, table: str) -> str:
        return self.labels.get(table, self.label)


@dataclasses.dataclass
class Run:
    """One (experiment, seed): its prepared config and where its training lives."""

    experiment: Experiment
    seed: int
    cfg: Config
    threads: int | None = None  # None: train_all's default
    build: dict | None = None  # build_identity of the data it trains on (None: not checked)

    @property
    def key(self) -> str:
        return run_key(self.experiment.name, self.seed)

    @property
    def work_dir(self) -> str:
        return self.cfg.work_dir

    @property
    def display_name(self) -> str:
        return f'{self.experiment.label} (seed {self.seed})'


def run_key(name: str, seed: int) -> str:
    return f'{name}/seed{seed}'


# ----------------------------------------------------------------------------- configs
def prepare_config(
    experiment: Experiment,
    *,
    seed: int,
    work_dir: str,
    data_root: str | None = None,
    vocab: str | None = None,
    max_iters: int | None = None,
) -> Config:
    """The experiment's config for one seed, with its work dir and optional overrides.

    Args:
        seed: set as ``randomness.seed``.
        work_dir: the run's folder.
        data_root: replaces the ``data_root`` of every dataset of the loaders (paths that the
            config derives from its own ``data_root`` elsewhere, e.g. region caches, stay).
        vocab: a WordPiece vocabulary for the models whose tokenizer reads a ``vocab_file``
            (not those with a pretrained tokenizer folder).
        max_iters: a shorter schedule (smoke runs; iteration-based loops only): the
            training, its validation and its checkpoint end at ``max_iters``.
    """
    cfg = Config.fromfile(osp.join(REPO_ROOT, experiment.config))
    if experiment.cfg_options:
        cfg.merge_from_dict(experiment.cfg_options)
    cfg.work_dir = work_dir
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=seed)
    if vocab is not None and 'vocab_file' in (cfg.model.get('tokenizer') or {}):
        cfg.model.tokenizer.vocab_file = vocab
    if data_root is not None:
        for split in ('train', 'val', 'test'):
            loader = cfg.get(f'{split}_dataloader')
            if loader is None:
                continue
            # a ConcatDataset lists its parts; each part has its own data_root
            for dataset in loader.dataset.get('datasets', [loader.dataset]):
                dataset.data_root = data_root
    if max_iters is not None and experiment.train:
        train_cfg = cfg.get('train_cfg') or {}
        if 'max_iters' not in train_cfg:
            raise ValueError(
                f'{experiment.config}: max_iters needs an iteration-based '
                'training loop (train_cfg.max_iters)'
            )
        train_cfg.max_iters = max_iters
        train_cfg.val_interval = max_iters
        cfg.default_hooks.checkpoint.interval = max_iters
    return cfg


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


# ----------------------------------------------------------------------------- training
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


def _check_same_build(run: Run) -> None:
    """Refuse to resume or reuse a work dir whose training used another SynthGround build
    (a training without :data:`BUILD_FILE` predates them: :data:`LEGACY_BUILD`)."""
    if run.build is None:
        return
    build_file = osp.join(run.work_dir, BUILD_FILE)
    old = LEGACY_BUILD
    if osp.isfile(build_file):
        with open(build_file) as f:
            old = json.load(f)
    if old != run.build:
        raise RuntimeError(
            f'{run.work_dir} holds a training on another SynthGround build ({build_text(old)}; '
            f'this run trains on {build_text(run.build)}); remove the folder or choose another '
            'work dir'
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
            _check_same_build(run)
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


# ----------------------------------------------------------------------------- evaluation
def benchmark_dataset(split_name: str, suite: str, data_root: str | None) -> tuple[dict, list]:
    """The test dataset config (without pipeline) and evaluator of one benchmark split."""
    if split_name not in SUITES[suite]:
        raise KeyError(f'the {suite} suite has no split {split_name!r}: {list(SUITES[suite])}')
    file, overrides = SUITES[suite][split_name]
    if suite == 'synthground' and split_name == 'ReferIt' and has_own_referit(data_root):
        file, overrides = SYNTHGROUND_OWN_REFERIT
    cfg = Config.fromfile(osp.join(DATASETS, file))
    dataset = dict(cfg.test_dataloader.dataset)
    dataset.pop('pipeline', None)
    dataset.update(overrides)
    if data_root is not None:
        dataset['data_root'] = data_root
    return dataset, cfg.test_evaluator


def has_own_referit(data_root: str | None) -> bool:
    """Whether the SynthGround build at ``data_root`` (default ``data/synthground/``) wrote a
    ReferItGame split of its own (``meta.json['counts']['referit']``, the v2 preset)."""
    meta_path = osp.join(data_root or SYNTHGROUND_ROOT, 'meta.json')
    if not osp.isfile(meta_path):
        return False
    with open(meta_path) as f:
        return 'referit' in json.load(f).get('counts', {})


def benchmark_test_config(
    cfg: Config,
    split_name: str,
    *,
    suite: str,
    data_root: str | None,
    checkpoint: str | None,
    work_dir: str,
) -> Config:
    """``cfg`` set up to test ``checkpoint`` on one benchmark split.

    The model keeps its own test pipeline (image size, normalisation); the dataset and the
    evaluator are the split's, plus the metrics the config lists in ``benchmark_metrics``
    (those of its own that every split should report). Models without boxes (ALBEF's
    heatmaps) get no R@k.
    """
    cfg = copy.deepcopy(cfg)
    dataset, evaluator = benchmark_dataset(split_name, suite, data_root)
    dataset['pipeline'] = cfg.test_dataloader.dataset.pipeline
    cfg.test_dataloader.dataset = dataset
    cfg.test_evaluator = [
        dict(e, allow_no_boxes=True) if e['type'] == 'BoxRecallMetric' else e for e in evaluator
    ]
    # metrics a model's config adds to every split's (``benchmark_metrics``: ReIR's box sets)
    cfg.test_evaluator += list(cfg.get('benchmark_metrics') or [])
    cfg.load_from = checkpoint
    cfg.work_dir = work_dir
    # a runner's logger and visualizer are looked up by this name: unique per evaluation
    cfg.experiment_name = f'test_{osp.basename(work_dir)}_{time.time_ns()}'
    cfg.default_hooks.visualization.draw = False
    for key in (
        'train_dataloader',
        'train_cfg',
        'optim_wrapper',
        'param_scheduler',
        'val_dataloader',
        'val_cfg',
        'val_evaluator',
    ):
        cfg[key] = None
    cfg.custom_hooks = [
        h for h in cfg.get('custom_hooks') or [] if h.get('type') != 'ProgressReportHook'
    ]
    return cfg


@dataclasses.dataclass
class EvalResult:
    metrics: dict
    protocols: dict  # metric prefix -> {'metric': ..., 'settings': {...}, 'predicts': [...]}
    seconds: float


# attributes of a metric that are bookkeeping, not part of what it measures
_NOT_PROTOCOL = {
    'collect_device',
    'prefix',
    'results',
    'dist_backend',
    'collect_dir',
    'per_type',
    'topk',
    'allow_no_boxes',
}


def metric_protocol(metric) -> dict:
    """What a built metric measures, read from the object: its type and settings.

    The settings are the metric's public attributes of plain types (named protocols, IoU
    thresholds, tolerances; a dataclass protocol is expanded), so a protocol a metric gains
    later is recorded without a change here.
    """
    settings = {}
    for name, value in sorted(vars(metric).items()):
        if name.startswith('_') or name in _NOT_PROTOCOL:
            continue
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        if isinstance(value, (str, int, float, bool, type(None), dict)):
            settings[name] = value
        elif isinstance(value, (tuple, list)) and all(
            isinstance(v, (str, int, float, bool)) for v in value
        ):
            settings[name] = list(value)
    return dict(metric=type(metric).__name__, settings=settings)


@contextlib.contextmanager
def _console_log_to(path: str):
    """Send the console output of loggers created inside the block to ``path``.

    MMEngine's logger binds ``sys.stdout`` when it is created; the runner's logger outlives
    the block, so its handlers bound to the file are removed on exit.
    """
    from mmengine.logging import MMLogger

    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'a') as log, contextlib.redirect_stdout(log):
        try:
            yield
        finally:
            for logger in list(MMLogger._instance_dict.values()):
                for handler in list(logger.handlers):
                    if getattr(handler, 'stream', None) is log:
                        logger.removeHandler(handler)


def evaluate(
    cfg: Config,
    *,
    checkpoint: str | None,
    split: str,
    suite: str = 'synthground',
    data_root: str | None = None,
    work_dir: str,
    pictures: int = 0,
    display=None,
    name: str = '',
) -> EvalResult:
    """Test ``checkpoint`` (``None`` for the baselines) of ``cfg`` on one benchmark split.

    Args:
        pictures: heatmap pictures to draw (about that many, spread over the split).
        display: a :class:`mmgrounding.apis.progress.EvalDisplay` for the progress bar.
        name: the model's name on the display.
    """
    from mmengine.runner import Runner

    from mmgrounding.engine.hooks.progress_report_hook import ProgressReportHook

    cfg = benchmark_test_config(
        cfg, split, suite=suite, data_root=data_root, checkpoint=checkpoint, work_dir=work_dir
    )
    if pictures:
        hook = cfg.default_hooks.visualization
        hook.draw = True
        hook.test_out_dir = 'heatmaps'
        hook.interval = 1  # set below once the split's size is known
    predicts: list[str] = []

    def on_record(record: dict) -> None:
        if record.get('predicts') and not predicts:
            predicts.extend(record['predicts'])
        if display is not None:
            display.update(name, split, record)

    start = time.perf_counter()
    with _console_log_to(osp.join(work_dir, 'test.log')):
        runner = Runner.from_cfg(cfg)
        if pictures:
            batches = len(runner.test_dataloader)
            for h in runner.hooks:
                if type(h).__name__ == 'HeatmapVisualizationHook':
                    h.interval = max(1, batches // pictures)
        runner.register_hook(ProgressReportHook(callback=on_record))
        metrics = runner.test()
    evaluator = runner.test_loop.evaluator
    protocols = {}
    for metric in evaluator.metrics:
        prefix = metric.prefix or getattr(metric, 'default_prefix', None) or ''
        protocols[prefix] = dict(metric_protocol(metric), predicts=list(predicts))
    return EvalResult(
        {k: float(v) for k, v in metrics.items()}, protocols, time.perf_counter() - start
    )


# ----------------------------------------------------------------------------- data, env
def ensure_synthground(out_dir: str, *, seed: int, num_images: int, preset: str = 'v2') -> dict:
    """Build SynthGround unless ``out_dir`` already holds the build for these arguments.

    ``preset``: ``'v2'`` (the default build) or ``'v1'``. A v1 build records no ``preset`` in
    its ``meta.json`` (its files predate presets).
    """
    from mmgrounding.datasets.synthground import build_synthground

    meta_path = osp.join(out_dir, 'meta.json')
    if osp.isfile(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        args = meta.get('arguments', {})
        if (
            args.get('seed') == seed
            and args.get('num_images') == num_images
            and args.get('preset', 'v1') == preset
        ):
            return meta
    start = time.perf_counter()
    build_synthground(out_dir, seed=seed, num_images=num_images, preset=preset)
    print(f'SynthGround built in {out_dir} in {time.perf_counter() - start:.1f} s')
    with open(meta_path) as f:
        return json.load(f)


def read_data_meta(data_root: str) -> dict:
    """The ``meta.json`` of a SynthGround build (its arguments and generator version)."""
    meta_path = osp.join(data_root, 'meta.json')
    if not osp.isfile(meta_path):
        raise FileNotFoundError(
            f'{meta_path} does not exist: build SynthGround first '
            '(`make synthground`, and `make proposals` for the region cache)'
        )
    with open(meta_path) as f:
        meta = json.load(f)
    return dict(arguments=meta.get('arguments'), generator_version=meta.get('generator_version'))


def build_identity(data: dict) -> dict:
    """What makes two SynthGround builds the same for a result: preset, seed, size, version.

    ``data`` is a ``meta.json`` or :func:`read_data_meta`'s dict (``arguments``,
    ``generator_version``); a build without ``preset`` in its arguments is v1 (its files
    predate presets).
    """
    args = data.get('arguments') or {}
    return dict(
        preset=args.get('preset', 'v1'),
        seed=args.get('seed'),
        num_images=args.get('num_images'),
        generator_version=data.get('generator_version'),
    )


def build_text(build: dict) -> str:
    """``'v2 (seed 0, 1500 images, generator 2.0.0)'``."""
    return (
        f'{build["preset"]} (seed {build["seed"]}, {build["num_images"]} images, '
        f'generator {build["generator_version"]})'
    )


def record_build(record: dict) -> dict | None:
    """The build a results record was measured on: its ``build``, or the one its ``data``
    (the build's meta) gives for records written before builds were recorded."""
    if record.get('build'):
        return record['build']
    if record.get('data'):
        return build_identity(record['data'])
    return None


def default_work_dir(build: dict | None, base: str = 'work_dirs/leaderboard') -> str:
    """The registry's (or the demo's, ``base='work_dirs/demo'``) work dirs for a build:
    ``base`` for the v1 build the first trainings used (seed 0, 1500 images),
    ``<base>/<preset>-seed<S>[-n<N>]`` for any other, so that no training of one build is
    reused for another."""
    if build is None or (build['preset'], build['seed'], build['num_images']) == ('v1', 0, 1500):
        return base
    tag = f'{build["preset"]}-seed{build["seed"]}'
    if build['num_images'] != 1500:
        tag += f'-n{build["num_images"]}'
    return osp.join(base, tag)


def ensure_vocab(data_root: str) -> str:
    """SynthGround's WordPiece vocabulary for the small text encoders."""
    from mmgrounding.datasets.synthground.vocab import collect_texts, train_vocab

    vocab = osp.join(data_root, 'vocab.txt')
    if not osp.isfile(vocab):
        size = train_vocab(collect_texts(data_root), vocab)
        print(f'vocabulary of {size} tokens written to {vocab}')
    return vocab


def environment() -> dict:
    """Library versions and machine facts that a number may depend on."""
    versions = {'python': platform.python_version()}
    for module in ('torch', 'mmengine', 'mmcv', 'mmdet', 'transformers', 'tokenizers', 'numpy'):
        try:
            versions[module] = __import__(module).__version__
        except ImportError:
            versions[module] = None
    from mmgrounding.version import __version__

    versions['mmgrounding'] = __version__
    return dict(
        versions=versions,
        machine=platform.machine(),
        system=platform.system(),
        cpu_count=os.cpu_count(),
    )


# ----------------------------------------------------------------------------- everything
def run_dir(work_dir: str, experiment: Experiment, seed: int, max_iters: int | None) -> str:
    suffix = f'-it{max_iters}' if max_iters is not None and experiment.train else ''
    return osp.join(work_dir, experiment.name, f'seed{seed}{suffix}')


def _safe(text: str) -> str:
    return ''.join(c if c.isalnum() else '_' for c in text).strip('_')


def run_experiments(
    experiments: Sequence[Experiment],
    *,
    splits_of,
    work_dir: str,
    seeds: Sequence[int] | None = None,
    max_iters: int | None = None,
    processes: int = 2,
    threads: int = 1,
    suite: str = 'synthground',
    data_root: str | None = None,
    vocab: str | None = None,
    pictures: int = 0,
    console=None,
    build: dict | None = None,
) -> dict[str, dict]:
    """Train (or reuse) and evaluate every (experiment, seed); one record per run.

    Args:
        splits_of: ``experiment -> list of benchmark splits`` to evaluate it on.
        seeds: only these of each experiment's seeds (all when None).
        max_iters: a shorter schedule for smoke runs (own work dirs, ``-it<N>``).
        processes, threads: trainings at the same time, threads per training.
        data_root, vocab: see :func:`prepare_config`.
        pictures: heatmap pictures per evaluation.
        build: :func:`build_identity` of the data: recorded with every run and its training;
            a work dir holding a training on another build is refused (:func:`train_all`).

    Returns:
        ``{run key: record}``, the records of ``results/synthground.json``: experiment, seed,
        config, schedule, checkpoint and its hashes, training status and time, per split the
        metrics with their protocols, the library versions, the build.
    """

    def make_run(e: Experiment, seed: int) -> Run:
        cfg = prepare_config(
            e,
            seed=seed,
            work_dir=run_dir(work_dir, e, seed, max_iters),
            data_root=data_root,
            vocab=vocab,
            max_iters=max_iters,
        )
        return Run(e, seed, cfg, build=build)

    runs, bases = [], {}  # bases: the runs others start from, by work dir
    for e in experiments:
        for seed in e.seeds:
            if seeds is not None and seed not in seeds:
                continue
            run = make_run(e, seed)
            if e.init_from is not None:
                base = make_run(*e.init_from)
                bases.setdefault(base.work_dir, base)
                run.cfg.load_from = final_checkpoint(base.cfg)
            runs.append(run)
    to_train = [run for run in runs if run.experiment.train]
    trained: dict[str, TrainResult] = {}
    # two stages: the checkpoints a fine-tune loads exist before it starts
    first = [run for run in to_train if run.experiment.init_from is None]
    first += [b for b in bases.values() if b.work_dir not in {r.work_dir for r in first}]
    stages = [first, [run for run in to_train if run.experiment.init_from is not None]]
    for stage in stages:
        if not stage:
            continue
        with TrainingDisplay(console) as display:
            trained.update(train_all(stage, processes=processes, threads=threads, display=display))
        display.console.print(display.summary())
    env = environment()
    records: dict[str, dict] = OrderedDict()
    with EvalDisplay(console) as display:
        for run in runs:
            result = trained.get(run.key)
            checkpoint = result.checkpoint if result else None
            splits = OrderedDict()
            for split in splits_of(run.experiment):
                evaluation = evaluate(
                    run.cfg,
                    checkpoint=checkpoint,
                    split=split,
                    suite=suite,
                    data_root=data_root,
                    pictures=pictures,
                    work_dir=osp.join(run.work_dir, 'eval', _safe(split)),
                    display=display,
                    name=run.display_name,
                )
                splits[split] = dict(
                    metrics=evaluation.metrics,
                    protocols=evaluation.protocols,
                    seconds=round(evaluation.seconds, 1),
                )
            train_cfg = run.cfg.get('train_cfg') or {}
            records[run.key] = OrderedDict(
                experiment=run.experiment.name,
                label=run.experiment.label,
                config=run.experiment.config,
                cfg_options=dict(run.experiment.cfg_options),
                init_from=(
                    None
                    if run.experiment.init_from is None
                    else dict(
                        experiment=run.experiment.init_from[0].name,
                        seed=run.experiment.init_from[1],
                        checkpoint=osp.relpath(run.cfg.load_from, REPO_ROOT),
                        weights_sha256=trained[
                            run_key(run.experiment.init_from[0].name, run.experiment.init_from[1])
                        ].weights_sha256,
                    )
                ),
                seed=run.seed,
                max_iters=train_cfg.get('max_iters') if run.experiment.train else None,
                checkpoint=osp.relpath(checkpoint, REPO_ROOT) if checkpoint else None,
                checkpoint_sha256=result.checkpoint_sha256 if result else None,
                weights_sha256=result.weights_sha256 if result else None,
                training=(
                    dict(
                        status=result.status,
                        threads=result.threads,
                        seconds=None if result.seconds is None else round(result.seconds, 1),
                    )
                    if result
                    else None
                ),
                splits=splits,
                build=build,
                environment=env,
            )
    display.console.print(display.summary())
    return records
