"""A second SynthGround build (issue 15's protocol): the recipes retargeted to its folder, its
own work dirs and results file, and the builds table that compares it with build 0."""

import json
import os.path as osp

import pytest
from mmengine.config import Config

from mmgrounding.apis import builds
from mmgrounding.apis import synthground_leaderboard as registry
from mmgrounding.apis.builds_tables import BuildsTable, render_builds_table
from mmgrounding.apis.experiments import Experiment, prepare_config
from mmgrounding.apis.results_tables import Column, Table, rewrite_docs, stale_tables
from mmgrounding.apis.runs import REPO_ROOT

OLD = 'data/synthground/'
NEW = 'data/synthground-seed1/'


def pairs(a, b, where=''):
    """Every (path in the config, value before, value after) of two configs of one shape."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for k in a:
            yield from pairs(a[k], b[k], f'{where}.{k}')
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            yield from pairs(x, y, f'{where}[{i}]')
    else:
        yield where, a, b


def test_retargeting_moves_every_path_of_every_recipe_and_nothing_else():
    main_rows = registry.select(['synthground-methods'])
    for e in registry.EXPERIMENTS:
        before = prepare_config(e, seed=0, work_dir='w').to_dict()
        retargeted = prepare_config(e, seed=0, work_dir='w', synthground_root=NEW)
        after = retargeted.to_dict()
        if e in main_rows:
            # what the runner dumps for tools/train.py reads back to the same config
            assert Config.fromstring(retargeted.pretty_text, '.py').to_dict() == after, e.name
        moved = 0
        for where, a, b in pairs(before, after):
            if isinstance(a, str) and a.startswith(OLD):
                assert b == NEW + a[len(OLD) :], (e.name, where, b)
                moved += 1
            else:
                assert b == a, (e.name, where)
            assert not (isinstance(b, str) and OLD in b), (e.name, where, b)
        # at least the data roots of the train and test datasets move
        assert moved >= 2, e.name


def test_the_default_folder_leaves_the_config_byte_identical():
    # the work dirs trained on data/synthground keep equal configs (training_runs refuses a
    # work dir whose dumped config differs), whichever way the folder is spelt
    e = registry.experiment('infoground-reranked')
    default = prepare_config(e, seed=1, work_dir='w').pretty_text
    for root in (None, 'data/synthground', OLD, osp.join(REPO_ROOT, 'data', 'synthground')):
        assert prepare_config(e, seed=1, work_dir='w', synthground_root=root).pretty_text == (
            default
        )
        assert builds.is_default_root(root)
    # a folder given absolute inside the repository is spelt relative, as the configs do
    assert builds.synthground_root(osp.join(REPO_ROOT, 'data', 'synthground-seed1')) == NEW
    assert builds.synthground_root('/elsewhere/sg') == '/elsewhere/sg/'
    assert not builds.is_default_root(NEW)
    # a path that only begins like the default folder is not moved
    cfg = builds.retarget_synthground(
        builds.Config(
            dict(a='data/synthground', b='data/synthground2/x', c=['data/synthground/y'])
        ),
        NEW,
    )
    assert (cfg.a, cfg.b, list(cfg.c)) == (
        'data/synthground-seed1',
        'data/synthground2/x',
        [NEW + 'y'],
    )


def test_each_build_has_its_own_work_dirs_and_results_file():
    seed0 = dict(preset='v2', seed=0, num_images=1500, generator_version='2.0.0')
    seed1 = dict(seed0, seed=1)
    assert builds.build_tag(seed1) == 'v2-seed1'
    assert builds.build_tag(dict(seed1, num_images=40)) == 'v2-seed1-n40'
    assert builds.default_work_dir(seed0) == 'work_dirs/leaderboard/v2-seed0'
    assert builds.default_work_dir(seed1) == 'work_dirs/leaderboard/v2-seed1'
    # the second build's file is the one the builds table reads
    (table,) = registry.BUILDS_TABLES
    assert table.builds[0][1] == 'results/synthground.json'
    assert table.builds[1][1] == registry.RESULTS_OF_BUILD.format(builds.build_tag(seed1))
    assert table.table is registry.table('synthground-methods')


POINTING = dict(metric='PointingGameMetric', settings=dict(protocol='grid'))


def run(value, build, *, heatmap=True):
    metrics = {'pointing/accuracy': value}
    protocols = {'pointing': dict(POINTING, predicts=['pred_heatmaps' if heatmap else 'x'])}
    return dict(splits={'Flickr30k': dict(metrics=metrics, protocols=protocols)}, build=build)


BUILD0 = dict(preset='v2', seed=0, num_images=1500, generator_version='2.0.0')
BUILD1 = dict(BUILD0, seed=1)
MAIN = Table(
    'toy-main',
    'docs/toy.md',
    (
        Column('pointing', 'Flickr30k', 'pointing/accuracy'),
        Column('per seed', 'Flickr30k', 'pointing/accuracy', kind='seeds'),
    ),
)
BUILDS = BuildsTable(
    'toy-builds',
    'docs/toy.md',
    MAIN,
    builds=(('build 0', 'results/b0.json'), ('build 1', 'results/b1.json')),
)
EXPERIMENTS = (
    Experiment('a', 'A', 'a.py', seeds=(0, 1, 2), tables=('toy-main',)),
    Experiment('b', 'B', 'b.py', seeds=(0,), tables=('toy-main',)),
    Experiment('c', 'C', 'c.py', seeds=(0,), tables=('other',)),
)
# build 0: A 60, 62, 64 -> 62.00 ± 2.00; B 30. build 1: A 70, 74 (seed 2 not run)
# -> 72.00 ± 2.83 (sqrt((4 + 4) / 1)), Δ = 72 - 62 = +10.00; B has a run of build 0 only
# (in build 1's file), which counts as not run there
RESULTS0 = dict(
    build=BUILD0,
    runs={
        'a/seed0': run(60.0, BUILD0),
        'a/seed1': run(62.0, BUILD0),
        'a/seed2': run(64.0, BUILD0),
        'b/seed0': run(30.0, BUILD0, heatmap=False),
    },
)
RESULTS1 = dict(
    build=BUILD1,
    runs={'a/seed0': run(70.0, BUILD1), 'a/seed1': run(74.0, BUILD1), 'b/seed0': run(1.0, BUILD0)},
)


def test_builds_table_means_differences_and_not_run():
    lines = render_builds_table(BUILDS, EXPERIMENTS, [RESULTS0, RESULTS1]).splitlines()
    # only the mean columns are compared; a seeds column per build
    assert lines[0] == (
        '| method | pointing (build 0) | pointing (build 1) | pointing Δ | seeds (build 0) | '
        'seeds (build 1) |'
    )
    assert lines[2] == '| A | 62.00 ± 2.00 | 72.00 ± 2.83 | +10.00 | 0, 1, 2 | 0, 1 (of 3) |'
    assert lines[3] == '| B | 30.00 | not run | not run | 0 | not run |'
    assert not any(line.startswith('| C |') for line in lines)
    text = '\n'.join(lines)
    assert 'point from the heatmap for A' in text and 'point at the top box for B' in text
    assert '- build 1: `results/b1.json`, measured on SynthGround v2 (seed 1, 1500 images' in text
    # no second file yet: build 1 is not run everywhere, build 0 is unchanged
    lines = render_builds_table(BUILDS, EXPERIMENTS, [RESULTS0, None]).splitlines()
    assert lines[2] == '| A | 62.00 ± 2.00 | not run | not run | 0, 1, 2 | not run |'
    assert lines[3] == '| B | 30.00 | not run | not run | 0 | not run |'
    assert '- build 1: `results/b1.json`, not run yet (no such file).' in lines
    # a negative difference keeps its sign
    lower = dict(RESULTS1, runs={'a/seed0': run(50.0, BUILD1)})
    line = render_builds_table(BUILDS, EXPERIMENTS, [RESULTS0, lower]).splitlines()[2]
    assert line == '| A | 62.00 ± 2.00 | 50.00 | -12.00 | 0, 1, 2 | 0 (of 3) |'


def test_builds_table_reads_its_files_in_render_and_check(tmp_path):
    doc = tmp_path / 'docs' / 'toy.md'
    doc.parent.mkdir()
    doc.write_text('x\n<!-- results:begin toy-builds -->\nold\n<!-- results:end toy-builds -->\n')
    (tmp_path / 'results').mkdir()
    (tmp_path / 'results' / 'b0.json').write_text(json.dumps(RESULTS0))
    kwargs = dict(results_root=str(tmp_path))
    # the second file does not exist: rendered, not an error
    assert rewrite_docs([BUILDS], EXPERIMENTS, {}, str(tmp_path), **kwargs) == [str(doc)]
    assert '| A | 62.00 ± 2.00 | not run | not run |' in doc.read_text()
    assert stale_tables([BUILDS], EXPERIMENTS, {}, str(tmp_path), **kwargs) == []
    # the second build's file appears: the page is stale until re-rendered
    (tmp_path / 'results' / 'b1.json').write_text(json.dumps(RESULTS1))
    assert stale_tables([BUILDS], EXPERIMENTS, {}, str(tmp_path), **kwargs) == [
        'docs/toy.md: toy-builds'
    ]
    rewrite_docs([BUILDS], EXPERIMENTS, {}, str(tmp_path), **kwargs)
    assert '| A | 62.00 ± 2.00 | 72.00 ± 2.83 | +10.00 |' in doc.read_text()
    assert stale_tables([BUILDS], EXPERIMENTS, {}, str(tmp_path), **kwargs) == []


def test_a_builds_table_needs_two_builds():
    with pytest.raises(ValueError, match='two builds'):
        BuildsTable('t', 'docs/t.md', MAIN, builds=(('build 0', 'results/b0.json'),))
