"""The generated doc tables: rendering, markers, and the docs equal results/synthground.json."""

import json
import os
import os.path as osp
import shutil

import pytest

from mmgrounding.apis import synthground_leaderboard as registry
from mmgrounding.apis.experiments import Experiment
from mmgrounding.apis.results_tables import (
    Column,
    Table,
    render_table,
    results_build,
    rewrite_docs,
    stale_tables,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RESULTS = osp.join(REPO, 'results', 'synthground.json')

POINTING = dict(metric='PointingGameMetric', settings=dict(protocol='grid', tolerance=0.0))
RECALL = dict(metric='BoxRecallMetric', settings=dict(iou_thr=0.5, protocol='any'))


def run(pointing, recall=None, *, heatmap=False):
    metrics = {'pointing/accuracy': pointing}
    protocols = {
        'pointing': dict(POINTING, predicts=['pred_heatmaps' if heatmap else 'pred_boxes'])
    }
    if recall is not None:
        metrics['box_recall/R@1'] = recall
        protocols['box_recall'] = dict(RECALL, predicts=['pred_boxes'])
    return dict(splits={'Flickr30k': dict(metrics=metrics, protocols=protocols)})


TABLE = Table(
    'toy',
    'docs/toy.md',
    (
        Column('paper', kind='paper'),
        Column('pointing', 'Flickr30k', 'pointing/accuracy'),
        Column('per seed', 'Flickr30k', 'pointing/accuracy', kind='seeds'),
        Column('R@1', 'Flickr30k', 'box_recall/R@1'),
    ),
)
EXPERIMENTS = (
    Experiment('a', 'A', 'a.py', seeds=(0, 1, 2), tables=('toy',), paper={'toy': {'paper': 1.5}}),
    Experiment('b', 'B', 'b.py', seeds=(0, 1), tables=('toy',)),
    Experiment('c', 'C', 'c.py', seeds=(0,), tables=('toy',)),
    Experiment('d', 'D', 'd.py', seeds=(0,), tables=('other',)),
)
# A: 60, 62, 64 -> mean 62, sample std sqrt((4 + 0 + 4) / 2) = 2; R@1 10, 11, 15 -> 12 ± 2.65
# (deviations -2, -1, 3: sqrt(14 / 2) = 2.6458); B: only seed 1 present; C: no run
RESULTS_TOY = dict(
    runs={
        'a/seed0': run(60.0, 10.0),
        'a/seed1': run(62.0, 11.0),
        'a/seed2': run(64.0, 15.0),
        'b/seed1': run(30.0, heatmap=True),
    }
)


def test_cells_are_mean_and_sample_std_over_the_present_seeds():
    lines = render_table(TABLE, EXPERIMENTS, RESULTS_TOY).splitlines()
    assert lines[0] == '| method | paper | pointing | per seed | R@1 | seeds |'
    assert lines[2] == '| A | 1.5 | 62.00 ± 2.00 | 60.00 / 62.00 / 64.00 | 12.00 ± 2.65 | 0, 1, 2 |'
    # B has one of its two seeds, and no R@1 (a heatmap model)
    assert lines[3] == '| B | – | 30.00 | 30.00 | - | 1 (of 2) |'
    assert lines[4] == '| C | – | not run | not run | not run | not run |'
    assert not any(line.startswith('| D |') for line in lines)  # not a row of this table


def test_protocol_of_every_column_is_printed_and_kinds_are_not_mixed():
    text = render_table(TABLE, EXPERIMENTS, RESULTS_TOY)
    pointing = [line for line in text.splitlines() if line.startswith('- "pointing"')]
    assert len(pointing) == 1
    assert 'pointing accuracy' in pointing[0] and "protocol='grid'" in pointing[0]
    assert 'point at the top box for A' in pointing[0]
    assert 'point from the heatmap for B' in pointing[0]
    recall = [line for line in text.splitlines() if line.startswith('- "R@1"')][0]
    assert recall.startswith('- "R@1": box accuracy R@1, `BoxRecallMetric(')
    assert 'pointing' not in recall
    assert 'Awaiting a full `make leaderboard` run: B, C.' in text


def test_rewrite_then_check_and_a_hand_edited_number_is_caught(tmp_path):
    doc = tmp_path / 'docs' / 'toy.md'
    doc.parent.mkdir()
    doc.write_text(
        '# Toy\n\ntext before\n<!-- results:begin toy -->\nold\n'
        '<!-- results:end toy -->\ntext after\n'
    )
    assert stale_tables([TABLE], EXPERIMENTS, RESULTS_TOY, str(tmp_path)) == ['docs/toy.md: toy']
    assert rewrite_docs([TABLE], EXPERIMENTS, RESULTS_TOY, str(tmp_path)) == [str(doc)]
    text = doc.read_text()
    assert text.startswith('# Toy\n\ntext before\n<!-- results:begin toy -->\n| method |')
    assert text.endswith('<!-- results:end toy -->\ntext after\n')
    assert stale_tables([TABLE], EXPERIMENTS, RESULTS_TOY, str(tmp_path)) == []
    assert rewrite_docs([TABLE], EXPERIMENTS, RESULTS_TOY, str(tmp_path)) == []
    doc.write_text(text.replace('62.00 ± 2.00', '62.50 ± 2.00'))
    assert stale_tables([TABLE], EXPERIMENTS, RESULTS_TOY, str(tmp_path)) == ['docs/toy.md: toy']


def test_missing_or_repeated_markers_name_the_page(tmp_path):
    doc = tmp_path / 'docs' / 'toy.md'
    doc.parent.mkdir()
    doc.write_text('no markers\n')
    with pytest.raises(ValueError, match='toy.md: expected one block'):
        stale_tables([TABLE], EXPERIMENTS, RESULTS_TOY, str(tmp_path))


def test_registry_is_consistent_and_its_configs_exist():
    registry.check_registry()
    for e in registry.EXPERIMENTS:
        assert osp.isfile(osp.join(REPO, e.config)), e.config
        for t in e.tables:
            for header in e.paper.get(t, {}):
                assert any(
                    c.header == header and c.kind == 'paper' for c in registry.table(t).columns
                ), (e.name, header)
    assert registry.splits_of(registry.experiment('amc')) == [
        'Flickr30k',
        'RefCOCO+ testA',
        'RefCOCO+ testB',
        'ReferIt',
        'Flickr30k val',
        'Flickr30k (amc protocol)',
        'RefCOCO+ testA (amc protocol)',
        'RefCOCO+ testB (amc protocol)',
        'ReferIt (amc protocol)',
        'Flickr30k (amp)',
    ]
    assert registry.splits_of(registry.experiment('amc-amp')) == ['Flickr30k', 'Flickr30k (amp)']
    assert {e.name for e in registry.select(['ckd-table4'])} == {
        'ckd-max-margin',
        'ckd-nce',
        'ckd-distill',
        'ckd-nce-distill',
        'ckd-nce-distill-b3',
    }


def load_results():
    with open(RESULTS) as f:
        return json.load(f)


def test_docs_equal_what_the_results_file_renders_to():
    # the builds tables (the main table on build seed 0 and on build seed 1) render from the
    # files they name; a second build's file not written yet renders "not run"
    # and the determinism table its report
    assert stale_tables(registry.ALL_TABLES, registry.EXPERIMENTS, load_results(), REPO) == []


def test_a_hand_edited_number_in_the_real_docs_fails_the_check(tmp_path):
    results = load_results()
    shutil.copytree(osp.join(REPO, 'docs'), tmp_path / 'docs')
    assert stale_tables(registry.TABLES, registry.EXPERIMENTS, results, str(tmp_path)) == []
    # change the first number of the first generated table
    table = registry.TABLES[0]
    path = tmp_path / table.doc
    text = path.read_text()
    begin = text.index(f'<!-- results:begin {table.name} -->')
    row = text.index('\n| ', text.index('|---|', begin))
    cell = text.index(' | ', row + 3) + 3
    end = text.index(' ', cell)
    assert text[cell:end].replace('.', '').isdigit(), text[cell:end]
    path.write_text(text[:cell] + '99.99' + text[end:])
    assert stale_tables(registry.TABLES, registry.EXPERIMENTS, results, str(tmp_path)) == [
        f'{table.doc}: {table.name}'
    ]
    os.remove(path)


def test_runs_of_another_build_count_as_not_run():
    v1 = dict(preset='v1', seed=0, num_images=1500, generator_version='1.0.0')
    v2 = dict(preset='v2', seed=0, num_images=1500, generator_version='2.0.0')
    # a record before builds were recorded gives its build through its data (meta) arguments
    old = dict(
        run(50.0, 5.0),
        data=dict(arguments=dict(seed=0, num_images=1500), generator_version='1.0.0'),
    )
    results = dict(
        runs={
            'a/seed0': old,
            'a/seed1': dict(run(70.0, 7.0), build=v2),
            'c/seed0': dict(run(40.0), build=v2),
        }
    )
    results['build'] = v2
    lines = render_table(TABLE, EXPERIMENTS, results).splitlines()
    assert lines[2] == '| A | 1.5 | 70.00 | 70.00 | 7.00 | 1 (of 3) |'  # seed 0 is v1's
    assert lines[4].startswith('| C | – | 40.00 |')
    assert '- Measured on SynthGround v2 (seed 0, 1500 images, generator 2.0.0).' in lines
    # the same runs with the v1 build current: only the v1 run counts
    lines = render_table(TABLE, EXPERIMENTS, dict(results, build=v1)).splitlines()
    assert lines[2] == '| A | 1.5 | 50.00 | 50.00 | 5.00 | 0 (of 3) |'
    assert lines[4].startswith('| C | – | not run |')
    assert '- Measured on SynthGround v1 (seed 0, 1500 images, generator 1.0.0).' in lines
    # a file without a build of its own reports the one build of all its runs
    assert results_build(dict(runs={'a/seed0': old})) == v1
    assert results_build(dict(runs={'a/seed0': old, 'c/seed0': dict(run(1.0), build=v2)})) is None


def test_determinism_table_renders_the_report(tmp_path):
    from mmgrounding.apis.determinism_tables import DeterminismTable, render_determinism

    table = DeterminismTable('determinism', 'docs/x.md', 'det.json', 'lb.py --determinism amc')
    assert render_determinism(table, str(tmp_path)).startswith('not run')
    run = dict(threads=1, weights_sha256='a' * 64, metrics={'pointing/accuracy': 29.834})
    report = dict(
        experiment='amc', config='c.py', iters=100,
        build=dict(preset='v2', seed=0, num_images=1500, generator_version='2.0.0'),
        runs=[
            run,
            dict(run),
            dict(run, threads=2, weights_sha256='b' * 64, metrics={'pointing/accuracy': 33.166}),
            dict(run, threads=2, weights_sha256='c' * 64, metrics={'pointing/accuracy': 31.6}),
        ],
        same_threads_identical=True, threads_1_vs_2_identical=False, max_abs_diff=3.332,
        two_threads_identical=False, abs_diff_two_threads={'pointing/accuracy': 1.566},
        environment=dict(versions=dict(torch='2.13.0+cpu'), cpu_count=2),
    )
    (tmp_path / 'det.json').write_text(json.dumps(report))
    text = render_determinism(table, str(tmp_path))
    rows = text.splitlines()[2:6]
    assert rows == [
        '| 1 thread, first | 1 | `aaaaaaaa…` | 29.83 |',
        '| 1 thread, second | 1 | `aaaaaaaa…` (identical to 1 thread, first) | 29.83 |',
        '| 2 threads, first | 2 | `bbbbbbbb…` | 33.17 |',
        '| 2 threads, second | 2 | `cccccccc…` | 31.60 |',
    ]
    assert 'v2 (seed 0, 1500 images, generator 2.0.0)' in text
    assert 'one thread, bitwise identical weights: yes' in text and 'up to 3.33 points' in text
    assert 'two runs on two threads: **the weights differ**, the metrics by up to 1.57' in text


def test_determinism_table_compares_with_the_leaderboard_record(tmp_path):
    """A report with the leaderboard's record of the same training (another machine) says
    whether the first one-thread run's weights equal it, and by how much the metrics move."""
    from mmgrounding.apis.determinism_tables import DeterminismTable, render_determinism

    table = DeterminismTable('determinism', 'docs/x.md', 'det.json', 'lb.py --determinism amc')
    run = dict(threads=1, weights_sha256='a' * 64, metrics={'pointing/accuracy': 60.5})
    environment = dict(
        versions=dict(torch='2.13.0+cpu'), cpu_count=2, cpu='AMD EPYC', cpu_capability='AVX2'
    )
    record = dict(
        file='results/synthground.json', key='amc/seed0', weights_sha256='d' * 64, threads=1,
        metrics={'pointing/accuracy': 61.32}, identical=False,
        abs_diff={'pointing/accuracy': 0.82, 'pointing/animals': 5.0},
        environment=dict(versions=dict(torch='2.13.0+cpu'), cpu_count=2),
    )
    report = dict(
        experiment='amc', config='c.py', iters=900, build=None,
        runs=[run, dict(run), dict(run, threads=2), dict(run, threads=2)],
        same_threads_identical=True, threads_1_vs_2_identical=True, max_abs_diff=0.0,
        two_threads_identical=True, abs_diff_two_threads={'pointing/accuracy': 0.0},
        environment=environment, record=record,
    )
    (tmp_path / 'det.json').write_text(json.dumps(report))
    text = render_determinism(table, str(tmp_path))
    assert '2 CPUs (AMD EPYC, torch kernels: AVX2).' in text
    line = next(x for x in text.splitlines() if "leaderboard's record" in x)
    assert '`amc/seed0`, `dddddddd…`, trained with 1 thread on torch 2.13.0+cpu, ' in line
    assert 'on torch 2.13.0+cpu, a CPU the record does not name; the same library versions)' in line
    # the largest difference of the headline metrics (not of a per-category one)
    assert line.endswith("weights **differ**, the metrics by up to 0.82 points.")
    (tmp_path / 'det.json').write_text(
        json.dumps(
            dict(
                report,
                record=dict(
                    record,
                    identical=True,
                    environment=dict(environment, versions=dict(torch='2.12.0+cpu')),
                ),
            )
        )
    )
    line = next(
        x for x in render_determinism(table, str(tmp_path)).splitlines()
        if "leaderboard's record" in x
    )
    assert 'on torch 2.12.0+cpu, AMD EPYC, torch kernels: AVX2; libraries that differ: torch ' \
        '2.13.0+cpu here, 2.12.0+cpu there)' in line
    assert line.endswith('**bitwise identical**.')


def test_a_column_of_an_amp_split_says_it_was_tested_under_autocast():
    table = Table(
        'amp-toy',
        'docs/toy.md',
        (
            Column('float32', 'Flickr30k', 'pointing/accuracy'),
            Column('autocast', 'Flickr30k (amp)', 'pointing/accuracy'),
        ),
    )
    experiments = (Experiment('a', 'A', 'a.py', tables=('amp-toy',)),)
    record = run(60.0)
    amp = dict(record['splits']['Flickr30k'], autocast='bfloat16')
    amp['metrics'] = {'pointing/accuracy': 61.5}
    record['splits']['Flickr30k (amp)'] = amp
    text = render_table(table, experiments, dict(runs={'a/seed0': record}))
    assert '| A | 60.00 | 61.50 | 0 |' in text
    notes = [line for line in text.splitlines() if line.startswith('- "')]
    assert len(notes) == 2  # the two columns measure under different precisions
    assert 'autocast' not in notes[0] and 'tested under bfloat16 autocast' in notes[1]
