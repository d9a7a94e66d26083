"""The CAM-WSVG rows of the SynthGround leaderboard (see synthground_leaderboard.py).

Tables 3-5 of "Improve weakly supervised visual grounding by learning where to focus on"
(Table 3: no CAM encoder and no attention mining; the CAM encoder; CAM encoder + attention
mining. Table 4: the visual levels F3-F5 alone and in pairs, one fusion layer per level.
Table 5: one fusion layer; three layers whose [REG] outputs a 1x1 conv merges; three layers
concatenated), docs/methods/camwsvg.md. The full model (CAM encoder + AM, F3F4F5, three
layers concatenated) is one run, a row of all three tables. Every row is a config of
``configs/camwsvg/`` trained for ``ITERS`` of its 1500 iterations (``SCHEDULE``: 1500 do not
fit the shared machine), over seeds 0-2.
The metrics are the configs' ``benchmark_metrics``: top-1 accuracy of the regressed box at
IoU > 0.5 (the paper's; in the SynthGround recipe the self-taught target moved by the [REG]
deltas, select-then-refine), pointing from its centre and, with a CAM encoder, the share of the
phrase's box above the CAM threshold before (raw Grad-CAM) and after the CAM encoder that
attention mining trains.
"""

from ..experiments import Experiment
from ..results_tables import Column, Table

CONFIG = 'configs/camwsvg/camwsvg{}_r18-tiny_1xb16-1500it_synthground.py'
SEEDS = (0, 1, 2)
# ITERS of the 1500-iteration configs: L_reg on from REG_START, the lr / 10 at LR_STEP
ITERS = 200
REG_START = 80
LR_STEP = 180
SCHEDULE = {
    'train_cfg.max_iters': ITERS,
    'train_cfg.val_interval': ITERS,
    'default_hooks.checkpoint.interval': ITERS,
    'custom_hooks.0.step_size': REG_START,
    'param_scheduler.0.end': 20,
    'param_scheduler.1.milestones': [LR_STEP],
}
TEST, VAL = 'Flickr30k', 'Flickr30k val'
ACC = 'camwsvg_box/R@1'
POINT = 'camwsvg_pointing/accuracy'
PAPER = 'paper Acc (Flickr30k)'


def _accuracy_table(name: str, row_header: str) -> Table:
    """An ablation table of the paper's Flickr30k accuracy beside ours (val, test) and
    pointing (test)."""
    return Table(
        name,
        'docs/methods/camwsvg.md',
        (
            Column(PAPER, kind='paper'),
            Column('Acc (val)', VAL, ACC),
            Column('Acc (test)', TEST, ACC),
            Column('pointing (test)', TEST, POINT),
        ),
        row_header=row_header,
    )


TABLES = (
    Table(
        'camwsvg-table3',
        'docs/methods/camwsvg.md',
        (
            Column(PAPER, kind='paper'),
            Column('Acc (val)', VAL, ACC),
            Column('Acc (test)', TEST, ACC),
            Column('pointing (test)', TEST, POINT),
            Column('Acc (test) per seed', TEST, ACC, kind='seeds'),
        ),
        row_header='Table 3 row',
    ),
    _accuracy_table('camwsvg-table4', 'Table 4 levels'),
    _accuracy_table('camwsvg-table5', 'Table 5 fusion'),
    Table(
        'camwsvg-coverage',
        'docs/methods/camwsvg.md',
        (
            Column('box share above 0.5, Grad-CAM (test)', TEST, 'cam_coverage/raw/coverage'),
            Column('after the CAM encoder (test)', TEST, 'cam_coverage/refined/coverage'),
            Column('map outside the box, Grad-CAM', TEST, 'cam_coverage/raw/outside'),
            Column('after the CAM encoder', TEST, 'cam_coverage/refined/outside'),
        ),
        row_header='Table 3 row',
    ),
)


def _camwsvg(variant: str, rows: dict[str, tuple[str, float]]) -> Experiment:
    """``rows``: per table, (row label, the paper's Flickr30k accuracy or None)."""
    label = next(iter(rows.values()))[0]
    return Experiment(
        'camwsvg' + (f'-{variant}' if variant else ''),
        f'CAM-WSVG ({label}, {ITERS} it)',
        CONFIG.format(f'-{variant}' if variant else ''),
        seeds=SEEDS,
        cfg_options=dict(SCHEDULE),
        tables=tuple(rows),
        labels={t: row for t, (row, _) in rows.items()},
        paper={t: {PAPER: paper} for t, (row, paper) in rows.items() if paper is not None},
    )


def _table4(variant: str, levels: str, paper: float) -> Experiment:
    return _camwsvg(variant, {'camwsvg-table4': (levels, paper)})


def _table5(variant: str, fusion: str, paper: float) -> Experiment:
    return _camwsvg(variant, {'camwsvg-table5': (fusion, paper)})


EXPERIMENTS = (
    _camwsvg('no-cam', {'camwsvg-table3': ('no CAM encoder, no AM', 57.78)}),
    _camwsvg(
        'cam-no-am',
        {'camwsvg-table3': ('CAM encoder', 58.87), 'camwsvg-coverage': ('CAM encoder', None)},
    ),
    _camwsvg(
        '',
        {
            'camwsvg-table3': ('CAM encoder + AM', 61.78),
            'camwsvg-coverage': ('CAM encoder + AM', None),
            'camwsvg-table4': ('F3 F4 F5', 61.78),
            'camwsvg-table5': ('three layers + concatenation', 61.78),
        },
    ),
    _table4('f3', 'F3', 57.38),
    _table4('f4', 'F4', 56.75),
    _table4('f5', 'F5', 57.19),
    _table4('f34', 'F3 F4', 57.92),
    _table4('f35', 'F3 F5', 59.91),
    _table4('f45', 'F4 F5', 59.71),
    _table5('1layer', 'one attention layer', 59.02),
    _table5('conv', 'three layers + 1×1 conv', 61.57),
)
