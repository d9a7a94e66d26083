"""The evaluation of one model on one benchmark split, in this process: the split's test dataset
and evaluator (:data:`SUITES`), the model's config set up to test it, and the metrics with the
protocol of each metric as the built metric objects state it (the runner's console log goes to
``<eval dir>/test.log``). With ``paper=METHOD`` a split is tested under that paper's protocol
(:mod:`.paper_protocols`): the paper config's test resolution and evaluator. A paper protocol
split (:data:`PAPER_SPLITS`, e.g. ``'Flickr30k (ckd protocol)'``) is a split of its own for the
registry: the data of its benchmark split, the paper's evaluator, SynthGround's analogue of
the paper's test resolution; a results record gains it without retraining."""

import contextlib
import copy
import dataclasses
import json
import os
import os.path as osp
import time
from collections import OrderedDict

from mmengine.config import Config

from .paper_protocols import PAPER_PROTOCOLS, paper_column, with_paper_resize
from .runs import REPO_ROOT

DATASETS = osp.join(REPO_ROOT, 'configs', '_base_', 'datasets')

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
class PaperSplit:
    """A benchmark split tested under a paper's protocol, as a split of its own.

    Attributes:
        split: the benchmark split whose dataset it reads (a key of :data:`SUITES`' suites).
        paper: the paper protocol (a key of
            :data:`~mmgrounding.apis.paper_protocols.PAPER_PROTOCOLS`): its evaluator, and
            its test resolution as SynthGround's analogue of it
            (:func:`~mmgrounding.apis.paper_protocols.analogue_resize`: the model's own size
            times the paper's test-to-training ratio).
    """

    split: str
    paper: str


def paper_split(split: str, paper: str) -> str:
    """The name of ``split`` under ``paper``'s protocol, e.g. ``'ReferIt (ckd protocol)'``."""
    return f'{split} ({paper} protocol)'


# every split of every paper protocol, by name
PAPER_SPLITS = {
    paper_split(split, paper): PaperSplit(split, paper)
    for paper, protocol in PAPER_PROTOCOLS.items()
    for split in protocol.configs
}


# the suffix of a split evaluated under autocast (``tools/test.py --amp``)
AMP_SUFFIX = ' (amp)'


def amp_split(split: str) -> str:
    """``split`` (a benchmark or paper protocol split) evaluated under autocast, as
    ``tools/test.py --amp`` evaluates: bfloat16 on a CPU, float16 on a GPU
    (:func:`mmgrounding.engine.optim_wrapper.use_amp_testing`), e.g. ``'Flickr30k (amp)'``."""
    return split + AMP_SUFFIX


def split_precision(split_name: str) -> tuple[str, bool]:
    """``(the split without the autocast suffix, whether it has it)``."""
    if split_name.endswith(AMP_SUFFIX):
        return split_name[: -len(AMP_SUFFIX)], True
    return split_name, False


def benchmark_dataset(split_name: str, suite: str, data_root: str | None) -> tuple[dict, list]:
    """The test dataset config (without pipeline) and evaluator of one benchmark split (of a
    paper protocol split: its benchmark split's)."""
    split_name = split_precision(split_name)[0]
    if split_name in PAPER_SPLITS:
        split_name = PAPER_SPLITS[split_name].split
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
    paper: str | None = None,
) -> Config:
    """``cfg`` set up to test ``checkpoint`` on one benchmark split.

    By default the model keeps its own test pipeline (image size, normalisation); the dataset
    and the evaluator are the split's, plus the metrics the config lists in
    ``benchmark_metrics`` (those of its own that every split should report). With ``paper``
    (a key of :data:`~.paper_protocols.PAPER_PROTOCOLS`) the model's ``Resize`` becomes the
    paper config's of that split and the evaluator is the paper config's, its pointing game
    under the paper's named protocol (:func:`~.paper_protocols.paper_column`); the dataset
    stays the split's. Models without boxes (ALBEF's heatmaps) get no R@k. A paper protocol
    split (:data:`PAPER_SPLITS`) is its benchmark split under its paper's protocol, the
    ``Resize`` being the analogue of the paper's for this model
    (:func:`~.paper_protocols.analogue_resize`). A split named by :func:`amp_split` is that
    split tested under autocast.

    Raises:
        ValueError: ``paper`` does not evaluate this split, or is given with a paper
            protocol split.
    """
    cfg = copy.deepcopy(cfg)
    split_name, amp = split_precision(split_name)
    dataset, evaluator = benchmark_dataset(split_name, suite, data_root)
    pipeline = cfg.test_dataloader.dataset.pipeline
    analogue = split_name in PAPER_SPLITS
    if analogue:
        if paper is not None:
            raise ValueError(f'{split_name!r} has its paper protocol; no paper={paper!r} on it')
        split_name, paper = PAPER_SPLITS[split_name].split, PAPER_SPLITS[split_name].paper
    if paper is not None:
        column = paper_column(paper, split_name)
        if column is None:
            raise ValueError(f'the {paper} paper does not evaluate {split_name!r}')
        pipeline = with_paper_resize(pipeline, column, analogue=analogue)
        evaluator = column.evaluator
    dataset['pipeline'] = pipeline
    cfg.test_dataloader.dataset = dataset
    cfg.test_evaluator = [
        dict(e, allow_no_boxes=True) if e['type'] == 'BoxRecallMetric' else e for e in evaluator
    ]
    if paper is None:
        # metrics a model's config adds to every split's (``benchmark_metrics``: ReIR's box
        # sets); a paper's evaluator is the paper's alone
        cfg.test_evaluator += list(cfg.get('benchmark_metrics') or [])
    if amp:
        from mmgrounding.engine.optim_wrapper import use_amp_testing

        use_amp_testing(cfg)
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
    # the Resize steps of the test pipeline that ran, read from the built transforms
    resize: list = dataclasses.field(default_factory=list)
    # the dtype the test loop ran under autocast in (None: float32)
    autocast: str | None = None


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


# the settings of a built Resize transform (mmcv / mmdet) that fix the test resolution
_RESIZE_SETTINGS = ('scale', 'scale_factor', 'keep_ratio', 'interpolation', 'backend')


def transform_resize(transform) -> dict | None:
    """What a built ``Resize`` transform does, read from the object (``None`` for any other
    transform): its type and the settings that fix the resolution."""
    if type(transform).__name__ != 'Resize':
        return None
    settings = {}
    for name in _RESIZE_SETTINGS:
        value = getattr(transform, name, None)
        settings[name] = list(value) if isinstance(value, tuple) else value
    return dict(transform='Resize', **settings)


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
    paper: str | None = None,
) -> EvalResult:
    """Test ``checkpoint`` (``None`` for the baselines) of ``cfg`` on one benchmark split.

    Args:
        pictures: heatmap pictures to draw (about that many, spread over the split).
        display: a :class:`mmgrounding.apis.progress.EvalDisplay` for the progress bar.
        name: the model's name on the display.
        paper: test under this paper's protocol of the split (:func:`benchmark_test_config`).
    """
    from mmengine.runner import Runner

    from mmgrounding.engine.hooks.progress_report_hook import ProgressReportHook

    cfg = benchmark_test_config(
        cfg,
        split,
        suite=suite,
        data_root=data_root,
        checkpoint=checkpoint,
        work_dir=work_dir,
        paper=paper,
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
    transforms = runner.test_loop.dataloader.dataset.pipeline.transforms
    resize = [r for r in map(transform_resize, transforms) if r is not None]
    autocast = None
    if getattr(runner.test_loop, 'fp16', False):
        from mmgrounding.engine.optim_wrapper import autocast_dtype

        autocast = autocast_dtype()
    return EvalResult(
        {k: float(v) for k, v in metrics.items()},
        protocols,
        time.perf_counter() - start,
        resize=resize,
        autocast=autocast,
    )
