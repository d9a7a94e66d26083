"""The SynthGround leaderboard: every recipe `make leaderboard` trains, and the doc tables.

One :class:`Experiment` per table row: its config, its seeds, the tables it is a row of (and
its name there, and the paper's number where a table cites one). A new method adds itself with
one entry (docs/leaderboard.md, "Adding a method"); a table it should appear in lists it by the
table's name. Runs are keyed ``<name>/seed<S>`` in ``results/synthground.json``.
"""

from .builds_tables import BuildsTable
from .data_report import DataReportTable
from .determinism_tables import DeterminismTable
from .evaluation_runs import amp_split, paper_split
from .experiments import Experiment
from .leaderboard_entries.paired import PAIRED_TABLES
from .results_tables import Column, Table

AMC_DIR = 'configs/amc/'
IG = 'configs/infoground/infoground_mlm-tiny_1xb50-400it_synthground-'
CKD = 'configs/ckd/ckd-{}_lstm_1xb32-600it_synthground.py'
SPLITS = ('Flickr30k', 'RefCOCO+ testA', 'RefCOCO+ testB', 'ReferIt')
POINTING = 'pointing/accuracy'
R1 = 'box_recall/R@1'
# the papers' protocols on SynthGround (issue 13): the splits of evaluation_runs.PAPER_SPLITS,
# the same data under each paper's evaluator at SynthGround's analogue of its test resolution
AMC_PAPER = {s: paper_split(s, 'amc') for s in SPLITS}
IG_PAPER = paper_split('Flickr30k', 'infoground')
CKD_PAPER = {s: paper_split(s, 'ckd') for s in ('Flickr30k', 'ReferIt')}

TABLES = (
    Table(
        'synthground-baselines',
        'docs/leaderboard.md',
        tuple(Column(s, s, POINTING) for s in SPLITS),
    ),
    Table(
        'synthground-methods', 'docs/leaderboard.md', tuple(Column(s, s, POINTING) for s in SPLITS)
    ),
    Table(
        'amc-demo',
        'docs/methods/amc.md',
        (
            Column('pointing (test)', 'Flickr30k', POINTING),
            Column('pointing (val)', 'Flickr30k val', POINTING),
        ),
        row_header='model',
    ),
    Table(
        'amc-paper-protocol',
        'docs/methods/amc.md',
        (
            Column('Flickr30k (own size)', AMC_PAPER['Flickr30k'], POINTING),
            Column('RefCOCO+ testA (1.5x size)', AMC_PAPER['RefCOCO+ testA'], POINTING),
            Column('RefCOCO+ testB (1.5x size)', AMC_PAPER['RefCOCO+ testB'], POINTING),
            Column('ReferIt (1.5x size)', AMC_PAPER['ReferIt'], POINTING),
        ),
        row_header='model',
    ),
    # mixed precision: the AMC recipe trained with and without --amp, each tested in float32
    # and under autocast (bfloat16 on a CPU, float16 on a GPU)
    Table(
        'amc-amp',
        'docs/methods/amc.md',
        (
            Column('pointing (test, tested in float32)', 'Flickr30k', POINTING),
            Column('per seed', 'Flickr30k', POINTING, kind='seeds'),
            Column('pointing (test, tested under autocast)', amp_split('Flickr30k'), POINTING),
            Column('per seed, under autocast', amp_split('Flickr30k'), POINTING, kind='seeds'),
        ),
        row_header='training',
    ),
    Table(
        'infoground-table2',
        'docs/methods/infoground.md',
        (
            Column('paper pointing (Flickr30k)', kind='paper'),
            Column('pointing per seed', 'Flickr30k', POINTING, kind='seeds'),
            Column('pointing', 'Flickr30k', POINTING),
            Column('R@1', 'Flickr30k', 'box_recall/R@1'),
            Column('R@5', 'Flickr30k', 'box_recall/R@5'),
            Column('R@10', 'Flickr30k', 'box_recall/R@10'),
        ),
        row_header='row',
    ),
    Table(
        'infoground-table2-paper-protocol',
        'docs/methods/infoground.md',
        (
            Column('paper pointing (Flickr30k)', kind='paper'),
            Column('pointing per seed', IG_PAPER, POINTING, kind='seeds'),
            Column('pointing', IG_PAPER, POINTING),
            Column('R@1', IG_PAPER, R1),
        ),
        row_header='row',
    ),
    Table(
        'ckd-table4',
        'docs/methods/ckd.md',
        (
            Column('paper Flickr30k R@1', kind='paper'),
            Column('paper ReferIt R@1', kind='paper'),
            Column('SynthGround R@1', 'Flickr30k', 'box_recall/R@1'),
            Column('R@5', 'Flickr30k', 'box_recall/R@5'),
            Column('pointing', 'Flickr30k', POINTING),
        ),
        row_header='Table 4 row',
    ),
    Table(
        'ckd-table4-seeds',
        'docs/methods/ckd.md',
        (Column('R@1 per seed', 'Flickr30k', 'box_recall/R@1', kind='seeds'),),
        row_header='row',
    ),
    Table(
        'ckd-table4-paper-protocol',
        'docs/methods/ckd.md',
        (
            Column('paper Flickr30k R@1', kind='paper'),
            Column('paper ReferIt R@1', kind='paper'),
            Column('Flickr30k R@1', CKD_PAPER['Flickr30k'], R1),
            Column('ReferIt R@1', CKD_PAPER['ReferIt'], R1),
            Column('pointing (Flickr30k)', CKD_PAPER['Flickr30k'], POINTING),
            Column('pointing (ReferIt)', CKD_PAPER['ReferIt'], POINTING),
        ),
        row_header='Table 4 row',
    ),
)

BASELINES = ('synthground-baselines', 'synthground-methods', 'amc-demo')
IG_SEEDS = (0, 1, 2)
CKD_SEEDS = (0, 1, 2, 3, 4)
IG_TABLES = ('infoground-table2', 'infoground-table2-paper-protocol')
CKD_TABLES = ('ckd-table4', 'ckd-table4-paper-protocol')


def _ig(label: str, paper: float | None = None) -> dict:
    """``labels`` and ``paper`` of an InfoGround Table 2 row in both its tables (its paper
    pointing on Flickr30k)."""
    return dict(
        labels={t: label for t in IG_TABLES},
        paper={}
        if paper is None
        else {t: {'paper pointing (Flickr30k)': paper} for t in IG_TABLES},
    )


def _ckd(
    variant: str,
    row: str,
    paper: tuple[float, float] | None,
    *,
    name: str | None = None,
    in_methods_table: bool = False,
    cfg_options: dict | None = None,
    table4_label: str | None = None,
) -> Experiment:
    """A CKD Table 4 row: ``configs/ckd/ckd-<variant>_...``, its paper R@1 (Flickr30k, ReferIt)."""
    return Experiment(
        name or f'ckd-{variant}',
        f'CKD ({row})',
        CKD.format(variant),
        seeds=CKD_SEEDS,
        cfg_options=cfg_options or {},
        tables=(('synthground-methods',) if in_methods_table else ())
        + ('ckd-table4', 'ckd-table4-seeds', 'ckd-table4-paper-protocol'),
        labels=dict({t: table4_label or row for t in CKD_TABLES}, **{'ckd-table4-seeds': row}),
        paper={}
        if paper is None
        else {
            t: {'paper Flickr30k R@1': paper[0], 'paper ReferIt R@1': paper[1]} for t in CKD_TABLES
        },
    )


EXPERIMENTS = (
    # fixed baselines: evaluated only
    Experiment(
        'centre',
        'centre baseline',
        'configs/baselines/centre_synthground_flickr30k.py',
        train=False,
        tables=BASELINES,
    ),
    Experiment(
        'random',
        'random baseline',
        'configs/baselines/random_synthground_flickr30k.py',
        train=False,
        tables=BASELINES,
    ),
    Experiment(
        'detector-score',
        'detector score (top proposal of the SynthGround detector)',
        'configs/baselines/detector-score_synthground_flickr30k.py',
        train=False,
        tables=('synthground-methods',) + IG_TABLES,
        **_ig('detector score (best single proposal)'),
    ),
    # AMC (docs/methods/amc.md): the `make demo` models
    Experiment(
        'galbef',
        'gALBEF',
        AMC_DIR + 'galbef_albef-tiny_1xb32-900it_synthground-mix.py',
        seeds=(0, 1, 2),
        tables=('synthground-methods', 'amc-demo', 'amc-paper-protocol'),
    ),
    Experiment(
        'amc',
        'AMC',
        AMC_DIR + 'amc_albef-tiny_1xb32-900it_synthground-mix.py',
        seeds=(0, 1, 2),
        tables=('synthground-methods', 'amc-demo', 'amc-paper-protocol', 'amc-amp'),
        labels={'amc-amp': 'AMC, float32'},
    ),
    # the same recipe trained with --amp (tools/train.py --amp): bfloat16 autocast on a CPU
    Experiment(
        'amc-amp',
        'AMC (--amp)',
        AMC_DIR + 'amc_albef-tiny_1xb32-900it_synthground-mix.py',
        seeds=(0, 1, 2),
        amp=True,
        tables=('amc-amp',),
        labels={'amc-amp': 'AMC, `--amp` (mixed precision)'},
    ),
    # InfoGround Table 2 (docs/methods/infoground.md)
    Experiment(
        'infoground-no-negatives',
        'InfoGround (no negatives)',
        IG + 'no-negatives.py',
        seeds=IG_SEEDS,
        tables=('synthground-methods',) + IG_TABLES,
        **_ig('no negatives (L_img only)', 66.89),
    ),
    Experiment(
        'infoground-random',
        'InfoGround (random negatives)',
        IG + 'random.py',
        seeds=IG_SEEDS,
        tables=IG_TABLES,
        **_ig('random negatives', 66.92),
    ),
    Experiment(
        'infoground-plausible',
        'InfoGround (plausible negatives)',
        IG + 'plausible.py',
        seeds=IG_SEEDS,
        tables=IG_TABLES,
        **_ig('plausible negatives', 74.91),
    ),
    Experiment(
        'infoground-reranked',
        'InfoGround (reranked negatives)',
        IG + 'reranked.py',
        seeds=IG_SEEDS,
        tables=('synthground-methods',) + IG_TABLES,
        **_ig('plausible, reranked (the method)', 76.74),
    ),
    Experiment(
        'infoground-reranked-oracle',
        'InfoGround (reranked, oracle-filtered)',
        IG + 'reranked-oracle.py',
        seeds=IG_SEEDS,
        tables=IG_TABLES,
        **_ig(
            'diagnostic: reranked without substitutes present '
            'in the image or of the same lemma (oracle)'
        ),
    ),
    # CKD Table 4 (docs/methods/ckd.md)
    _ckd('max-margin', 'Max Margin', (42.11, 22.94), in_methods_table=True),
    _ckd('nce', 'NCE', (48.35, 26.63)),
    _ckd('distill', 'Distill', (45.05, 17.25)),
    _ckd('nce-distill', 'NCE + Distill', (50.96, 27.59), in_methods_table=True),
    _ckd(
        'nce-distill',
        'NCE + Distill, b = 3',
        None,
        name='ckd-nce-distill-b3',
        cfg_options={'custom_hooks.0.max_weight': 3},
        table4_label='NCE + Distill, b = 3 (λ reaches 2)',
    ),
)


def _method_blocks() -> tuple[tuple[Table, ...], tuple[Experiment, ...]]:
    """The tables and rows of ``leaderboard_entries.<method>`` for every method listed there."""
    import importlib

    from . import leaderboard_entries

    tables, experiments = (), ()
    for method in leaderboard_entries.METHODS:
        module = importlib.import_module(f'{leaderboard_entries.__name__}.{method}')
        tables += tuple(module.TABLES)
        experiments += tuple(module.EXPERIMENTS)
    return tables, experiments


_TABLES, _EXPERIMENTS = _method_blocks()
TABLES += _TABLES
EXPERIMENTS += _EXPERIMENTS


def experiment(name: str) -> Experiment:
    for e in EXPERIMENTS:
        if e.name == name:
            return e
    raise KeyError(f'no experiment {name!r}; known: {", ".join(e.name for e in EXPERIMENTS)}')


def table(name: str) -> Table:
    for t in TABLES:
        if t.name == name:
            return t
    raise KeyError(f'no table {name!r}; known: {", ".join(t.name for t in TABLES)}')


def splits_of(e: Experiment) -> list[str]:
    """The benchmark splits the tables of ``e`` read, in table order."""
    return list(dict.fromkeys(s for t in TABLES if t.name in e.tables for s in t.splits))


def select(names: list[str] | None) -> list[Experiment]:
    """The experiments named, or the rows of the tables named (all when ``names`` is None)."""
    if not names:
        return list(EXPERIMENTS)
    chosen = set()
    for name in names:
        if any(t.name == name for t in TABLES):
            chosen.update(e.name for e in EXPERIMENTS if name in e.tables)
        else:
            chosen.add(experiment(name).name)
    return [e for e in EXPERIMENTS if e.name in chosen]


def check_registry() -> None:
    """Unique names; every table an experiment names exists, every table has rows."""
    names = [e.name for e in EXPERIMENTS]
    if len(set(names)) != len(names):
        raise ValueError(f'experiment names repeat: {names}')
    table_names = {t.name for t in TABLES}
    for e in EXPERIMENTS:
        unknown = set(e.tables) - table_names
        if unknown:
            raise ValueError(f'experiment {e.name!r} names unknown tables {sorted(unknown)}')
    for t in TABLES:
        if not any(t.name in e.tables for e in EXPERIMENTS):
            raise ValueError(f'table {t.name!r} has no rows')
    for t in BUILDS_TABLES:
        if t.name in table_names:
            raise ValueError(f'builds table {t.name!r} has the name of a table')


# the results file of every build other than the default's (``leaderboard.py
# --synthground-root``): results/synthground_<preset>-seed<S>.json
RESULTS_OF_BUILD = 'results/synthground_{}.json'
# issue 15's protocol: the main table also on a second SynthGround build (`make
# leaderboard-build1`: data/synthground-seed1, the default preset with build seed 1)
SECOND_BUILD = 'v2-seed1'
BUILDS_TABLES = (
    BuildsTable(
        'synthground-methods-builds',
        'docs/leaderboard.md',
        table('synthground-methods'),
        builds=(
            ('build 0', 'results/synthground.json'),
            ('build 1', RESULTS_OF_BUILD.format(SECOND_BUILD)),
        ),
    ),
)
# results/determinism.json (leaderboard.py --determinism), a table of its own
DETERMINISM_TABLES = (
    DeterminismTable(
        'determinism',
        'docs/leaderboard.md',
        'results/determinism.json',
        'python tools/analysis_tools/leaderboard.py --determinism amc --max-iters 100',
    ),
    # the recipe the demo and the leaderboard train, to its end (900 iterations)
    DeterminismTable(
        'determinism-full',
        'docs/leaderboard.md',
        'results/determinism_full.json',
        'python tools/analysis_tools/leaderboard.py --determinism amc '
        '--out results/determinism_full.json --work-dir work_dirs/determinism-full',
    ),
    # the same on a second machine (another CPU): against the leaderboard's record of it
    DeterminismTable(
        'determinism-full-second-cpu',
        'docs/leaderboard.md',
        'results/determinism_full_second_cpu.json',
        'python tools/analysis_tools/leaderboard.py --determinism amc '
        '--out results/determinism_full_second_cpu.json '
        '--work-dir work_dirs/determinism-full-second-cpu',
    ),
)
# results/synthground_data.json (tools/analysis_tools/data_report.py): the build's split
# counts, the detector's metrics and the region cache's proposal recall
DATA_TABLES = (
    DataReportTable('synthground-splits', 'docs/synthground.md', 'splits'),
    DataReportTable('synthground-detector', 'docs/proposals.md', 'detector'),
    DataReportTable('synthground-proposal-recall', 'docs/proposals.md', 'recall'),
)
# every generated table: --render, --check and the docs test take these (PAIRED_TABLES:
# differences between rows seed by seed, leaderboard_entries/paired.py)
ALL_TABLES = TABLES + BUILDS_TABLES + DETERMINISM_TABLES + PAIRED_TABLES + DATA_TABLES
