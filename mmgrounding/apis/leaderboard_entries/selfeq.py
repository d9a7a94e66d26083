"""The selfeq rows of the SynthGround leaderboard (see synthground_leaderboard.py).

The paper's protocol (docs/methods/selfeq.md): SelfEQ fine-tunes a trained ALBEF. Here the
SelfEQ fine-tune, its baseline (gALBEF fine-tuned alike) and AMC fine-tuned alike (with boxes,
the reference) start from the final checkpoint of the registry's ``galbef`` seed 0
(``init_from``: trained first, or reused), for the same 200 steps, over seeds 0, 1, 2.
"""

from mmgrounding.apis.experiments import Experiment
from mmgrounding.apis.results_tables import Column, Table

POINTING = 'pointing/accuracy'
SELFEQ_DIR = 'configs/selfeq/'

# The registry's `galbef` row as far as its training goes (name, config, no overrides), so
# that the fine-tunes reuse its seed-0 work dir; tests/test_models/test_selfeq_configs.py
# checks that it trains what the registry's does.
GALBEF = Experiment(
    'galbef', 'gALBEF', 'configs/amc/galbef_albef-tiny_1xb32-900it_synthground-mix.py'
)
PRETRAINED = (GALBEF, 0)
FT_SEEDS = (0, 1, 2)

TABLES = (
    Table(
        'selfeq-synthground',
        'docs/methods/selfeq.md',
        (
            Column('pointing (test)', 'Flickr30k', POINTING),
            Column('test per seed', 'Flickr30k', POINTING, kind='seeds'),
            Column('pointing (val)', 'Flickr30k val', POINTING),
        ),
        row_header='model (from gALBEF seed 0, 200 steps)',
    ),
)

EXPERIMENTS = (
    Experiment(
        'galbef-ft',
        'gALBEF, fine-tuned',
        SELFEQ_DIR + 'galbef-ft_albef-tiny_1xb32-200it_synthground-mix.py',
        seeds=FT_SEEDS,
        init_from=PRETRAINED,
        tables=('selfeq-synthground',),
    ),
    Experiment(
        'selfeq-ft',
        'SelfEQ',
        SELFEQ_DIR + 'selfeq-ft_albef-tiny_1xb32-200it_synthground-mix.py',
        seeds=FT_SEEDS,
        init_from=PRETRAINED,
        tables=('synthground-methods', 'selfeq-synthground'),
        labels={'synthground-methods': 'SelfEQ (gALBEF seed 0 fine-tuned, no boxes)'},
    ),
    Experiment(
        'amc-ft',
        'AMC, fine-tuned (boxes)',
        SELFEQ_DIR + 'amc-ft_albef-tiny_1xb32-200it_synthground-mix.py',
        seeds=FT_SEEDS,
        init_from=PRETRAINED,
        tables=('selfeq-synthground',),
    ),
)
