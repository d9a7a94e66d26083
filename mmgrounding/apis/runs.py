"""What an experiment is and what one run of it is: the :class:`Experiment` recipe, the
:class:`Run` of one of its seeds, and their names in the work dirs (:func:`run_key`,
:func:`run_dir`).

The other modules of the experiment runner (:mod:`.builds`, :mod:`.training_runs`,
:mod:`.evaluation_runs`, :mod:`.experiments`) build on these.
"""

import dataclasses
import os.path as osp

from mmengine.config import Config

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


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
        amp: train with mixed precision, as ``tools/train.py --amp`` does (bfloat16 autocast
            on a CPU, float16 with loss scaling on a GPU,
            :func:`mmgrounding.engine.optim_wrapper.use_amp_training`). Evaluating under
            autocast is a split of its own (:func:`~.evaluation_runs.amp_split`), for any
            recipe.
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
    amp: bool = False

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


def run_dir(work_dir: str, experiment: Experiment, seed: int, max_iters: int | None) -> str:
    suffix = f'-it{max_iters}' if max_iters is not None and experiment.train else ''
    return osp.join(work_dir, experiment.name, f'seed{seed}{suffix}')
