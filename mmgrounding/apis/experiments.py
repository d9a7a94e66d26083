"""Train and evaluate experiments: what `make demo`, `make leaderboard` and `make infoground` run.

An :class:`Experiment` is a config with the seeds it is reported over (and, for the leaderboard,
the doc tables it feeds). :func:`run_experiments` trains (or reuses) every (experiment, seed)
that needs it with :func:`~.training_runs.train_all` and evaluates each on its benchmark splits
with :func:`~.evaluation_runs.evaluate`, returning one record per run. The parts live in
:mod:`.runs` (experiments, runs, their names), :mod:`.builds` (the SynthGround build of a
result), :mod:`.training_runs` and :mod:`.evaluation_runs`; this module re-exports their public
names, the interface of the tools, tests and leaderboard entries
(``from mmgrounding.apis import experiments as ex``).
"""

import copy
import os
import os.path as osp
import platform
from collections import OrderedDict
from collections.abc import Sequence

from mmengine.config import Config

from mmgrounding.utils.atomic import atomic_open, atomic_write_json
from mmgrounding.utils.hashing import file_sha256

from .builds import (
    BUILD_FILE,
    LEGACY_BUILD,
    build_identity,
    build_tag,
    build_text,
    default_work_dir,
    ensure_synthground,
    ensure_vocab,
    is_default_root,
    read_data_meta,
    record_build,
    retarget_synthground,
    synthground_root,
)
from .evaluation_runs import (
    DATASETS,
    SUITES,
    SYNTHGROUND_OWN_REFERIT,
    SYNTHGROUND_ROOT,
    EvalResult,
    benchmark_dataset,
    benchmark_test_config,
    evaluate,
    has_own_referit,
    metric_protocol,
)
from .progress import PROGRESS_FILE, EvalDisplay, TrainingDisplay
from .runs import REPO_ROOT, Experiment, Run, run_dir, run_key
from .training_runs import (
    CONFIG_FILE,
    RECORD_FILE,
    TRAIN_SCRIPT,
    TrainResult,
    final_checkpoint,
    start_training,
    train_all,
    training_state,
    weights_sha256,
    with_hooks,
    with_progress_hook,
)

__all__ = [
    # runs
    'REPO_ROOT',
    'Experiment',
    'Run',
    'run_key',
    'run_dir',
    # builds
    'BUILD_FILE',
    'LEGACY_BUILD',
    'build_identity',
    'build_tag',
    'build_text',
    'default_work_dir',
    'ensure_synthground',
    'ensure_vocab',
    'is_default_root',
    'read_data_meta',
    'record_build',
    'retarget_synthground',
    'synthground_root',
    # training
    'CONFIG_FILE',
    'RECORD_FILE',
    'TRAIN_SCRIPT',
    'TrainResult',
    'final_checkpoint',
    'start_training',
    'train_all',
    'training_state',
    'weights_sha256',
    'with_hooks',
    'with_progress_hook',
    # evaluation
    'DATASETS',
    'SUITES',
    'SYNTHGROUND_OWN_REFERIT',
    'SYNTHGROUND_ROOT',
    'EvalResult',
    'benchmark_dataset',
    'benchmark_test_config',
    'evaluate',
    'has_own_referit',
    'metric_protocol',
    # progress and files, imported here before the split
    'PROGRESS_FILE',
    'EvalDisplay',
    'TrainingDisplay',
    'Config',
    'atomic_open',
    'atomic_write_json',
    'file_sha256',
    # this module
    'prepare_config',
    'environment',
    'same_training',
    'run_experiments',
]


def prepare_config(
    experiment: Experiment,
    *,
    seed: int,
    work_dir: str,
    data_root: str | None = None,
    vocab: str | None = None,
    max_iters: int | None = None,
    synthground_root: str | None = None,
) -> Config:
    """The experiment's config for one seed, with its work dir and optional overrides.

    Args:
        seed: set as ``randomness.seed``.
        work_dir: the run's folder.
        synthground_root: another SynthGround build's folder: every path of the recipe under
            ``data/synthground/`` (data roots and every input derived from the build) moves
            there (:func:`~.builds.retarget_synthground`; a no-op for the default build).
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
    if experiment.amp and experiment.train:
        from mmgrounding.engine.optim_wrapper import use_amp_training

        use_amp_training(cfg)
    cfg = retarget_synthground(cfg, synthground_root)
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
        cpu=cpu_model(),
        # the vector instructions torch's kernels dispatch to ('AVX2', 'AVX512', ...): float
        # rounding, and so trained weights, may differ between two of them
        cpu_capability=_cpu_capability(),
    )


def cpu_model() -> str | None:
    """The CPU's model name (``/proc/cpuinfo``; ``platform.processor()`` elsewhere)."""
    try:
        with open('/proc/cpuinfo', encoding='utf-8', errors='replace') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _cpu_capability() -> str | None:
    import torch

    getter = getattr(torch.backends.cpu, 'get_cpu_capability', None)
    return getter() if getter else None


def same_training(record: dict | None, run: Run, result: TrainResult | None) -> bool:
    """Whether an earlier results record is of this run's training: the same recipe (config,
    ``cfg_options``, ``amp``, seed), the same weights (``weights_sha256``; none for a baseline)
    and the same SynthGround build, and no smoke schedule."""
    if not record or record.get('smoke'):
        return False
    e = run.experiment
    return (
        record.get('config') == e.config
        and record.get('cfg_options', {}) == dict(e.cfg_options)
        and record.get('amp', False) == e.amp
        and record.get('seed') == run.seed
        and record.get('weights_sha256') == (result.weights_sha256 if result else None)
        and record_build(record) == run.build
    )


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
    synthground_root: str | None = None,
    earlier: dict | None = None,
) -> dict[str, dict]:
    """Train (or reuse) and evaluate every (experiment, seed); one record per run.

    Args:
        splits_of: ``experiment -> list of benchmark splits`` to evaluate it on.
        seeds: only these of each experiment's seeds (all when None).
        max_iters: a shorter schedule for smoke runs (own work dirs, ``-it<N>``).
        processes, threads: trainings at the same time, threads per training.
        data_root, vocab, synthground_root: see :func:`prepare_config`; the benchmark
            splits are read from ``data_root``, else from ``synthground_root``.
        pictures: heatmap pictures per evaluation.
        build: :func:`build_identity` of the data: recorded with every run and its training;
            a work dir holding a training on another build is refused (:func:`train_all`).
        earlier: ``{run key: record}`` of an earlier results file (``leaderboard.py
            --add-splits``): a run whose earlier record is of the same training
            (:func:`same_training`) is evaluated only on the splits that record lacks, and its
            record is the earlier one with those splits added (each with the environment it
            was measured in, when that differs); the others are evaluated on every split.

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
            synthground_root=synthground_root,
        )
        return Run(e, seed, cfg, build=build)

    eval_root = data_root
    if eval_root is None and not is_default_root(synthground_root):
        eval_root = synthground_root

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
            record = (earlier or {}).get(run.key)
            kept = same_training(record, run, result)
            splits = OrderedDict(record['splits'] if kept else {})
            for split in splits_of(run.experiment):
                if split in splits:
                    continue
                evaluation = evaluate(
                    run.cfg,
                    checkpoint=checkpoint,
                    split=split,
                    suite=suite,
                    data_root=eval_root,
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
                if evaluation.autocast is not None:
                    splits[split]['autocast'] = evaluation.autocast
                if kept and record.get('environment') != env:
                    splits[split]['environment'] = env
            if kept:
                records[run.key] = dict(copy.deepcopy(record), splits=splits)
                continue
            train_cfg = run.cfg.get('train_cfg') or {}
            records[run.key] = OrderedDict(
                experiment=run.experiment.name,
                label=run.experiment.label,
                config=run.experiment.config,
                cfg_options=dict(run.experiment.cfg_options),
                amp=run.experiment.amp,
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
