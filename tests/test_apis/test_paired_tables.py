"""Paired-difference tables: the statistics by hand, the cells, the markers, the registry."""

import math

import pytest

from mmgrounding.apis import synthground_leaderboard as registry
from mmgrounding.apis.experiments import Experiment
from mmgrounding.apis.paired_tables import PairedDiffTable, paired_diff, render_paired_table
from mmgrounding.apis.results_tables import render_generated, rewrite_docs, stale_tables

RECALL = dict(
    metric='BoxRecallMetric', settings=dict(iou_thr=0.5, protocol='any'), predicts=['pred_boxes']
)
BUILD = dict(preset='v2', seed=0, num_images=1500, generator_version='2.0.0')


def run(r1=None, *, build=BUILD):
    metrics = {'pointing/accuracy': 50.0}
    protocols = {}
    if r1 is not None:
        metrics['box_recall/R@1'] = r1
        protocols['box_recall'] = RECALL
    return dict(splits={'Flickr30k': dict(metrics=metrics, protocols=protocols)}, build=build)


EXPERIMENTS = (
    Experiment('a', 'A', 'a.py', seeds=(0, 1, 2)),
    Experiment('b', 'B', 'b.py', seeds=(0, 1, 2)),
    Experiment('c', 'C', 'c.py', seeds=(0, 1, 2)),
    Experiment('d', 'D', 'd.py', seeds=(0, 1, 2)),
    Experiment('e', 'E', 'e.py', seeds=(0,)),
    Experiment('h', 'H (heatmaps)', 'h.py', seeds=(0, 1, 2)),
)
TABLE = PairedDiffTable(
    'toy-paired',
    'docs/toy.md',
    'Flickr30k',
    'box_recall/R@1',
    (
        ('A − B', 'a', 'b'),
        ('A − C', 'a', 'c'),
        ('A − D', 'a', 'd'),
        ('A − E', 'a', 'e'),
        ('A − H', 'a', 'h'),
        ('C − C shifted', 'c', 'b'),
    ),
)
# A 60, 62, 65; B 58, 61, 61; C has seeds 0 and 2 only: 57, 64; D no run; E seed 0 of another
# build (not run on the current one); H reports no R@1
RESULTS = dict(
    build=BUILD,
    runs={
        'a/seed0': run(60.0),
        'a/seed1': run(62.0),
        'a/seed2': run(65.0),
        'b/seed0': run(58.0),
        'b/seed1': run(61.0),
        'b/seed2': run(61.0),
        'c/seed0': run(57.0),
        'c/seed2': run(64.0),
        'e/seed0': run(10.0, build=dict(BUILD, preset='v1', generator_version='1.0.0')),
        'h/seed0': run(),
        'h/seed1': run(),
        'h/seed2': run(),
    },
)


def test_paired_statistics_by_hand():
    # A − B = 2, 1, 4: mean 7/3; deviations -1/3, -4/3, 5/3 -> sum of squares 42/9 = 14/3,
    # sample variance 7/3, se = sqrt(7/3) / sqrt(3) = sqrt(7) / 3 = 0.8819; t = (7/3) / se
    # = sqrt(7) = 2.6458; with 2 degrees of freedom the two-sided p is 1 - |t| / sqrt(2 + t^2)
    # = 1 - sqrt(7) / 3 = 0.1181
    d = paired_diff([60.0, 62.0, 65.0], [58.0, 61.0, 61.0], [0, 1, 2])
    assert d.diffs == (2.0, 1.0, 4.0) and d.seeds == (0, 1, 2) and d.ahead == 3
    assert d.mean == pytest.approx(7 / 3)
    assert d.se == pytest.approx(math.sqrt(7) / 3)
    assert d.t == pytest.approx(math.sqrt(7))
    assert d.p == pytest.approx(1 - math.sqrt(7) / 3)
    # two seeds, differences 3 and 1: mean 2, sd sqrt(2), se 1, t 2; one degree of freedom:
    # p = 1 - (2 / pi) atan(2) = 0.2952
    d = paired_diff([60.0, 65.0], [57.0, 64.0], [0, 2])
    assert (d.mean, d.se, d.t) == pytest.approx((2.0, 1.0, 2.0))
    assert d.p == pytest.approx(1 - 2 / math.pi * math.atan(2))
    # b ahead in one seed of three, a tie is not ahead
    assert paired_diff([1.0, 2.0, 3.0], [2.0, 2.0, 1.0], [0, 1, 2]).ahead == 1
    # differences that do not vary: se 0, no t-test; one seed: no se
    same = paired_diff([1.0, 2.0], [1.0, 2.0], [0, 1])
    assert same.se == 0.0 and same.t is None and same.p is None
    one = paired_diff([3.0], [1.0], [0])
    assert one.mean == 2.0 and one.se is None and one.p is None
    with pytest.raises(ValueError, match='3 seeds'):
        paired_diff([1.0], [1.0, 2.0], [0, 1, 2])


def test_cells_of_every_case():
    lines = render_paired_table(TABLE, EXPERIMENTS, RESULTS).splitlines()
    assert lines[0] == (
        '| difference | a − b (mean ± s.e.) | per seed | a ahead | t | p (paired t-test) | seeds |'
    )
    assert (
        lines[2]
        == '| A − B | +2.33 ± 0.88 | +2.00 / +1.00 / +4.00 | 3 of 3 | 2.65 | 0.118 | 0, 1, 2 |'
    )
    # C has seeds 0 and 2: A − C = 3, 1
    assert (
        lines[3] == '| A − C | +2.00 ± 1.00 | +3.00 / +1.00 | 2 of 2 | 2.00 | 0.295 | 0, 2 (of 3) |'
    )
    assert lines[4] == '| A − D | not run | not run | not run | not run | not run | not run |'
    # E's one run is of another build: not run on this one
    assert lines[5] == '| A − E | not run | not run | not run | not run | not run | not run |'
    assert lines[6] == '| A − H | - | - | - | - | - | 0, 1, 2 |'
    # C − B on seeds 0, 2: -1, +3
    assert (
        lines[7]
        == '| C − C shifted | +1.00 ± 2.00 | -1.00 / +3.00 | 1 of 2 | 0.50 | 0.705 | 0, 2 (of 3) |'
    )
    text = '\n'.join(lines)
    assert "- Compared: box accuracy R@1 on Flickr30k, `BoxRecallMetric(protocol='any'" in text
    assert '- Measured on SynthGround v2 (seed 0, 1500 images, generator 2.0.0).' in text
    assert 'A − B: a = `a`, b = `b`' in text
    assert text.endswith(
        'do not edit by hand. Awaiting a full `make leaderboard` run: A − C, A − D, A − E, '
        'C − C shifted.'
    )


def test_a_p_below_a_thousandth_and_unknown_names():
    runs = {f'a/seed{s}': run(60.0 + s) for s in range(3)}
    runs |= {f'b/seed{s}': run(50.0 + s + 0.01 * s * s) for s in range(3)}
    table = PairedDiffTable(
        't', 'docs/toy.md', 'Flickr30k', 'box_recall/R@1', (('A − B', 'a', 'b'),)
    )
    row = render_paired_table(table, EXPERIMENTS, dict(build=BUILD, runs=runs)).splitlines()[2]
    assert row.startswith('| A − B | +9.98 ± 0.01 | +10.00 / +9.99 / +9.96 | 3 of 3 |')
    assert row.endswith('| < 0.001 | 0, 1, 2 |')
    table = PairedDiffTable('t', 'docs/toy.md', 'Flickr30k', 'x', (('A − Z', 'a', 'z'),))
    with pytest.raises(KeyError, match="unknown experiments \\['z'\\]"):
        render_paired_table(table, EXPERIMENTS, RESULTS)
    with pytest.raises(ValueError, match='a != b'):
        PairedDiffTable('t', 'docs/toy.md', 'Flickr30k', 'x', (('A − A', 'a', 'a'),))


def test_render_then_check_and_a_hand_edited_difference_is_caught(tmp_path):
    doc = tmp_path / 'docs' / 'toy.md'
    doc.parent.mkdir()
    doc.write_text(
        '# Toy\n<!-- results:begin toy-paired -->\nold\n<!-- results:end toy-paired -->\n'
    )
    assert stale_tables([TABLE], EXPERIMENTS, RESULTS, str(tmp_path)) == ['docs/toy.md: toy-paired']
    assert rewrite_docs([TABLE], EXPERIMENTS, RESULTS, str(tmp_path)) == [str(doc)]
    text = doc.read_text()
    assert render_generated(TABLE, EXPERIMENTS, RESULTS) in text
    assert stale_tables([TABLE], EXPERIMENTS, RESULTS, str(tmp_path)) == []
    doc.write_text(text.replace('+2.33 ± 0.88', '+2.50 ± 0.88'))
    assert stale_tables([TABLE], EXPERIMENTS, RESULTS, str(tmp_path)) == ['docs/toy.md: toy-paired']


def test_registry_pairs_name_rows_evaluated_on_the_compared_split():
    names = [t.name for t in registry.ALL_TABLES]
    assert len(names) == len(set(names))
    assert set(registry.PAIRED_TABLES) <= set(registry.ALL_TABLES)
    for table in registry.PAIRED_TABLES:
        for name in table.experiment_names:
            # a row the registry does not evaluate on the split would stay "not run"
            assert table.split in registry.splits_of(registry.experiment(name)), (table.name, name)
