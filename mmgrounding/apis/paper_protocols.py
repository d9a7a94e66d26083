"""The papers' evaluation protocols of the benchmark splits, for the leaderboard's columns.

A paper protocol of one column (a method's paper and one benchmark split) is what that paper's
configuration evaluates the split with: the image resolution of its test pipeline (its
``Resize``) and its test evaluator, read from the method's paper-scale config of that split,
with the pointing game under the method's named protocol
(:data:`mmgrounding.evaluation.functional.POINTING_PROTOCOLS`). The model keeps the rest of
its own test pipeline (its loading steps, region caches, meta keys), and the dataset stays the
suite's (:data:`~mmgrounding.apis.evaluation_runs.SUITES`), so the same columns also run on
SynthGround's copies of the public formats. A split the paper does not evaluate has no paper
protocol: :func:`paper_column` returns ``None`` and the leaderboard leaves the cell empty.

The SynthGround models are small and trained at a few dozen pixels, so a paper's absolute test
size means something else for them. :func:`analogue_resize` gives SynthGround's analogue of a
paper's test resolution instead: the model's own test ``Resize`` scaled by the paper config's
ratio of test to training size (AMC: 1 on Flickr30k, 384 / 256 = 1.5 on RefCOCO+ and ReferIt),
with the paper's interpolation (an interpretation, docs/metrics.md); the registry's paper
protocol splits (:data:`~mmgrounding.apis.evaluation_runs.PAPER_SPLITS`) test at that size.
"""

import copy
import dataclasses
import os.path as osp

from mmengine.config import Config

from .runs import REPO_ROOT


@dataclasses.dataclass(frozen=True)
class PaperProtocol:
    """One method's evaluation protocols.

    Attributes:
        pointing: the pointing-game protocol by name, given to every ``PointingGameMetric`` of
            the column's evaluator; ``None``: the paper config's own pointing metric as it is
            (a paper that reports box accuracy only and whose configs keep their pointing).
        configs: benchmark split -> the paper config (relative to the repository) whose test
            ``Resize`` and test evaluator the column takes.
        note: where the protocol comes from (printed with the columns).
    """

    pointing: str | None
    configs: dict
    note: str


PAPER_PROTOCOLS = {
    # AMC (Yang et al., CVPR 2023) Sec. 4 and the official dataset/__init__.py: Flickr30k
    # Entities at 256 px, RefCOCO+ and ReferItGame at 384 px (a 24 x 24 Grad-CAM grid, PIL
    # bicubic); grounding_eval: the map upsampled bicubically, first maximum, strictly inside
    'amc': PaperProtocol(
        pointing='amc_official',
        configs={
            'Flickr30k': 'configs/amc/albef_vg.py',
            'RefCOCO+ testA': 'configs/amc/albef_vg_test-384px_refcoco+.py',
            'RefCOCO+ testB': 'configs/amc/albef_vg_test-384px_refcoco+.py',
            'ReferIt': 'configs/amc/albef_vg_test-384px_referit.py',
        },
        note='AMC Sec. 4 and the official evaluation (grounding_eval)',
    ),
    # InfoGround (Gupta et al., ECCV 2020) evaluates Flickr30k Entities only (and Visual
    # Genome, not a column here): the centre of the top box strictly inside (compute_pt_acc)
    'infoground': PaperProtocol(
        pointing='infoground',
        configs={
            'Flickr30k': 'configs/infoground/infoground_bert-base_1xb50-10e_coco-flickr30k.py'
        },
        note='InfoGround eval_flickr_phrase_loc.py compute_pt_acc',
    ),
    # CKD (Wang et al., ICCV 2019) reports box accuracy (IoU > 0.5) on Flickr30k Entities and
    # ReferItGame, no pointing: its paper configs point with InfoGround's protocol (ours)
    'ckd': PaperProtocol(
        pointing='infoground',
        configs={
            'Flickr30k': 'configs/ckd/ckd-nce-distill_lstm_1xb32-10e_flickr30k.py',
            'ReferIt': 'configs/ckd/ckd-nce-distill_lstm_1xb32-10e_referit.py',
        },
        note="CKD reports box accuracy only; the pointing rule is ours (InfoGround's)",
    ),
    # ReIR (Liu et al., CVPR 2021) on Flickr30k Entities and ReferItGame, images resized to
    # 600 px (short side, 1000 max); flickr30k_evaluation_grounding.py: the centre of the box
    # inside the union box, borders included
    'reir': PaperProtocol(
        pointing='reir',
        configs={
            'Flickr30k': 'configs/reir/reir_r101-c4_1xb40-80k_flickr30k.py',
            'ReferIt': 'configs/reir/reir_r101-c4_1xb40-80k_referit.py',
        },
        note='ReIR flickr30k_evaluation_grounding.py',
    ),
    # CAM-WSVG ("Improve weakly supervised visual grounding by learning where to focus on",
    # no public code) on TransVG's splits (Flickr30k Entities, RefCOCO+ testA / testB,
    # ReferItGame test; RefCOCO and RefCOCOg are not columns here): top-1 box accuracy at IoU
    # > 0.5; its paper configs test at 640 x 640 (TransVG's size, an interpretation,
    # docs/methods/camwsvg.md). No pointing in the paper: the configs' own (the top box's
    # centre under `grid`) is kept as it is
    'camwsvg': PaperProtocol(
        pointing=None,
        configs={
            'Flickr30k': 'configs/camwsvg/camwsvg_r50-bert-base_8xb8-90e_flickr30k.py',
            'RefCOCO+ testA': 'configs/camwsvg/camwsvg_r50-bert-base_8xb8-90e_refcoco+.py',
            'RefCOCO+ testB': 'configs/camwsvg/camwsvg_r50-bert-base_8xb8-90e_refcoco+.py',
            'ReferIt': 'configs/camwsvg/camwsvg_r50-bert-base_8xb8-90e_referit.py',
        },
        note='CAM-WSVG reports top-1 box accuracy (IoU > 0.5) only; the pointing is its '
        "configs' own (grid, the top box's centre)",
    ),
}


@dataclasses.dataclass(frozen=True)
class PaperColumn:
    """The paper protocol of one column: the config it is read from, the paper config's test
    ``Resize`` (``None`` when its pipeline has none, as CKD's cached features) and its
    evaluator under the named pointing protocol."""

    method: str
    split: str
    config: str
    resize: dict | None
    evaluator: list
    pointing: str | None
    note: str

    def describe(self) -> str:
        """One line: the paper, the config, the resolution and the pointing protocol."""
        size = "no resize in the paper config (the model's own)"
        if self.resize is not None:
            size = resize_text(self.resize)
        pointing = "the paper config's own" if self.pointing is None else f'`{self.pointing}`'
        return (
            f'paper protocol `{self.method}` ({self.note}): {size}; pointing '
            f'{pointing}; from `{self.config}`'
        )


def resize_text(resize: dict) -> str:
    """A ``Resize`` step (config or recorded) as text: size, aspect, interpolation, backend."""
    scale = resize.get('scale')
    size = 'x'.join(str(s) for s in scale) if isinstance(scale, (list, tuple)) else str(scale)
    aspect = 'keep ratio' if resize.get('keep_ratio') else 'stretched'
    interpolation = resize.get('interpolation', 'bilinear')
    backend = resize.get('backend', 'cv2')
    return f'Resize {size} ({aspect}, {interpolation}, {backend})'


def _is_resize(step: dict) -> bool:
    return str(step.get('type', '')).split('.')[-1] == 'Resize'


def paper_column(method: str, split: str) -> PaperColumn | None:
    """The paper protocol of ``method`` on the benchmark split ``split`` (``None`` when the
    paper does not evaluate that split)."""
    if method not in PAPER_PROTOCOLS:
        raise KeyError(f'no paper protocol for {method!r}: one of {sorted(PAPER_PROTOCOLS)}')
    protocol = PAPER_PROTOCOLS[method]
    if split not in protocol.configs:
        return None
    path = protocol.configs[split]
    cfg = Config.fromfile(osp.join(REPO_ROOT, path))
    resizes = [dict(s) for s in cfg.test_dataloader.dataset.pipeline if _is_resize(s)]
    if len(resizes) > 1:
        raise ValueError(f'{path}: {len(resizes)} Resize steps in the test pipeline, expected one')
    evaluator = []
    for metric in cfg.test_evaluator:
        metric = copy.deepcopy(dict(metric))
        if metric['type'] == 'PointingGameMetric' and protocol.pointing is not None:
            metric.pop('source', None)  # the named protocols fix their own point
            metric['protocol'] = protocol.pointing
        evaluator.append(metric)
    if protocol.pointing is not None and not any(
        m['type'] == 'PointingGameMetric' for m in evaluator
    ):
        evaluator.append(dict(type='PointingGameMetric', protocol=protocol.pointing))
    return PaperColumn(
        method=method,
        split=split,
        config=path,
        resize=resizes[0] if resizes else None,
        evaluator=evaluator,
        pointing=protocol.pointing,
        note=protocol.note,
    )


def paper_train_resize(column: PaperColumn) -> dict:
    """The ``Resize`` of the training pipeline of the column's paper config (the size its
    model learns at).

    Raises:
        ValueError: the training pipeline has no ``Resize`` or several.
    """
    cfg = Config.fromfile(osp.join(REPO_ROOT, column.config))
    pipeline = cfg.get('train_pipeline') or cfg.train_dataloader.dataset.pipeline
    resizes = [dict(s) for s in pipeline if _is_resize(s)]
    if len(resizes) != 1:
        raise ValueError(
            f'{column.config}: {len(resizes)} Resize steps in the training pipeline, expected one'
        )
    return resizes[0]


def _sides(scale) -> tuple:
    return tuple(scale) if isinstance(scale, (list, tuple)) else (scale,)


def analogue_resize(column: PaperColumn, model_resize: dict) -> dict:
    """SynthGround's analogue of the paper's test resolution for a model (an interpretation).

    The model's own test ``Resize`` with its scale multiplied, side by side, by the paper
    config's test size over its training size (AMC on RefCOCO+: 384 / 256 = 1.5, so a model
    tested at 64 px is tested at 96 px), rounded to whole pixels, and the interpolation and
    backend of the paper's test ``Resize``; the model keeps its ``keep_ratio``. A paper config
    without a test ``Resize`` leaves the model's as it is.

    Args:
        column: the paper protocol of the split.
        model_resize: the model's test ``Resize`` step (config dict).
    """
    model_resize = copy.deepcopy(dict(model_resize))
    if column.resize is None:
        return model_resize
    test, train = _sides(column.resize['scale']), _sides(paper_train_resize(column)['scale'])
    model = _sides(model_resize['scale'])
    if not len(test) == len(train) == len(model):
        raise ValueError(
            f"{column.config}: test scale {test}, training scale {train} and the model's "
            f'{model} differ in form'
        )
    scale = tuple(int(round(m * t / s)) for m, t, s in zip(model, test, train))
    model_resize['scale'] = scale if isinstance(model_resize['scale'], (list, tuple)) else scale[0]
    for key in ('interpolation', 'backend'):
        if key in column.resize:
            model_resize[key] = column.resize[key]
        else:
            model_resize.pop(key, None)  # the transform's default, as in the paper config
    return model_resize


def with_paper_resize(pipeline: list, column: PaperColumn, *, analogue: bool = False) -> list:
    """A model's test pipeline with its ``Resize`` replaced by the paper config's (with
    ``analogue``: by :func:`analogue_resize` of its own).

    Raises:
        ValueError: the paper resizes but the model's pipeline has no ``Resize`` to replace.
    """
    pipeline = [copy.deepcopy(dict(s)) for s in pipeline]
    if column.resize is None:
        return pipeline
    positions = [i for i, s in enumerate(pipeline) if _is_resize(s)]
    if not positions:
        raise ValueError(
            f'the {column.method} paper protocol of {column.split!r} resizes '
            f"({resize_text(column.resize)}) but the model's test pipeline has no Resize"
        )
    for i in positions:
        pipeline[i] = (
            analogue_resize(column, pipeline[i]) if analogue else copy.deepcopy(column.resize)
        )
    return pipeline
