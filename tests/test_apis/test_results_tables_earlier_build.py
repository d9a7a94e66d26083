"""A generated table none of whose trained rows is re-measured on the current build keeps the
numbers of the build it was measured on, and says so; one re-measured row switches it over."""

from mmgrounding.apis.experiments import Experiment
from mmgrounding.apis.results_tables import Column, Table, render_table

V1 = dict(preset='v1', seed=0, num_images=1500, generator_version='1.0.0')
V2 = dict(preset='v2', seed=0, num_images=1500, generator_version='2.0.0')
METRIC = 'pointing/accuracy'
PROTOCOL = dict(metric='PointingGameMetric', settings=dict(protocol='grid'), predicts=['x'])

TABLE = Table('toy', 'docs/toy.md', (Column('pointing', 'Flickr30k', METRIC),))
EXPERIMENTS = (
    Experiment('base', 'Baseline', 'b.py', train=False, tables=('toy',)),
    Experiment('m', 'Method', 'm.py', seeds=(0, 1), tables=('toy',)),
)


def run(value, build):
    split = dict(metrics={METRIC: value}, protocols={'pointing': PROTOCOL})
    return dict(splits={'Flickr30k': split}, build=build)


def test_table_not_re_measured_reports_its_earlier_build():
    # the baseline is re-measured on v2 (its key now holds the v2 run), the method is not yet
    results = dict(
        build=V2,
        runs={'base/seed0': run(10.0, V2), 'm/seed0': run(50.0, V1), 'm/seed1': run(54.0, V1)},
    )
    lines = render_table(TABLE, EXPERIMENTS, results).splitlines()
    assert lines[2] == '| Baseline | not run | not run |'  # its v1 run was replaced
    assert lines[3] == '| Method | 52.00 ± 2.83 | 0, 1 |'
    assert (
        '- Measured on SynthGround v1 (seed 0, 1500 images, generator 1.0.0); not yet '
        're-measured on the current build, v2 (seed 0, 1500 images, generator 2.0.0).'
    ) in lines

    # one seed of the method re-measured: the table is v2's, the v1 seed counts as not run
    results['runs']['m/seed1'] = run(60.0, V2)
    lines = render_table(TABLE, EXPERIMENTS, results).splitlines()
    assert lines[2] == '| Baseline | 10.00 | 0 |'
    assert lines[3] == '| Method | 60.00 | 1 (of 2) |'
    assert '- Measured on SynthGround v2 (seed 0, 1500 images, generator 2.0.0).' in lines
