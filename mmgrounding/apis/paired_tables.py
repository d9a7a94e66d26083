"""Generated tables of paired differences between leaderboard rows, seed by seed.

A :class:`PairedDiffTable` compares rows of the registry on one metric of one split: for
each pair ``(label, a, b)`` of experiment names, the difference ``a − b`` of every seed that
both rows have a run of (a seed gives both trainings the same seed; the difference is taken
within a seed), then their mean ± standard error (sample standard deviation / √n), the
differences seed by seed, in how many seeds ``a`` is ahead, and a two-sided paired t-test
(``scipy.stats.ttest_rel``, n − 1 degrees of freedom). It sits between the same markers as
the tables of :mod:`~mmgrounding.apis.results_tables` and renders from the same results file
(only the runs of its build, :func:`~mmgrounding.apis.results_tables.current_runs`); a pair
with no seed in common says ``not run``. :func:`render_paired_table` writes it;
``results_tables.render_generated`` dispatches to it, so ``leaderboard.py --render`` /
``--check`` and the docs test cover it.
"""

import dataclasses
import math
import statistics
from collections.abc import Sequence

from .experiments import Experiment, build_text, run_key
from .results_tables import (
    NOT_RUN,
    Column,
    Table,
    _column_protocols,
    _metric_name,
    _seeds_text,
    current_runs,
    protocol_note,
    results_build,
)


@dataclasses.dataclass(frozen=True)
class PairedDiffTable:
    """A generated table of paired differences ``a − b`` between registry rows.

    Attributes:
        name: the marker name.
        doc: the page it lives in.
        split: the benchmark split both rows are read on, e.g. ``'Flickr30k'``.
        metric: the metric key, e.g. ``'box_recall/R@1'``.
        pairs: ``(label, experiment a, experiment b)`` per row, by experiment name.
        row_header: the header of the label column.
    """

    name: str
    doc: str
    split: str
    metric: str
    pairs: tuple[tuple[str, str, str], ...]
    row_header: str = 'difference'

    def __post_init__(self):
        if not self.pairs:
            raise ValueError(f'paired table {self.name!r} has no pair')
        for pair in self.pairs:
            if len(pair) != 3 or pair[1] == pair[2]:
                raise ValueError(f'{self.name}: a pair is (label, a, b) with a != b, got {pair}')

    def render(self, experiments: Sequence[Experiment], results: dict) -> str:
        """The markdown of the table (``results_tables.render_generated`` calls it)."""
        return render_paired_table(self, experiments, results)

    @property
    def experiment_names(self) -> list[str]:
        return list(dict.fromkeys(name for _, a, b in self.pairs for name in (a, b)))


@dataclasses.dataclass(frozen=True)
class PairedDiff:
    """The paired comparison of two rows over their shared seeds.

    Attributes:
        seeds: the seeds both rows have a run of, in the order of ``a``'s seeds.
        diffs: ``a − b`` per seed of ``seeds`` (empty when a row lacks the metric).
        mean, se: mean and standard error of ``diffs`` (``se`` None below two seeds).
        ahead: the number of seeds in which ``a`` is above ``b``.
        t, p: the paired t statistic and its two-sided p (None below two seeds, or when the
            differences do not vary).
    """

    seeds: tuple[int, ...]
    diffs: tuple[float, ...]
    mean: float | None
    se: float | None
    ahead: int
    t: float | None
    p: float | None


def _metric_by_seed(runs: dict, experiment: Experiment, split: str, metric: str) -> dict:
    """``{seed: value or None}`` for the seeds whose run holds ``split`` (None: no metric)."""
    values = {}
    for seed in experiment.seeds:
        run = runs.get(run_key(experiment.name, seed))
        metrics = (run or {}).get('splits', {}).get(split, {}).get('metrics')
        if metrics is not None:
            values[seed] = metrics.get(metric)
    return values


def paired_diff(a: Sequence[float], b: Sequence[float], seeds: Sequence[int]) -> PairedDiff:
    """The paired differences ``a − b`` (one value of each per seed of ``seeds``)."""
    from scipy import stats

    if not len(a) == len(b) == len(seeds):
        raise ValueError(f'{len(a)} and {len(b)} values for {len(seeds)} seeds')
    diffs = tuple(x - y for x, y in zip(a, b))
    n = len(diffs)
    mean = statistics.mean(diffs) if n else None
    se = statistics.stdev(diffs) / math.sqrt(n) if n >= 2 else None
    t = p = None
    if n >= 2 and se > 0:
        result = stats.ttest_rel(a, b)
        t, p = float(result.statistic), float(result.pvalue)
    return PairedDiff(tuple(seeds), diffs, mean, se, sum(d > 0 for d in diffs), t, p)


def compare(
    table: PairedDiffTable, experiments: Sequence[Experiment], results: dict
) -> list[tuple[PairedDiff | None, tuple[int, ...], bool]]:
    """Per pair of ``table``: its :class:`PairedDiff` (None without a shared seed), the seeds
    both rows name, and whether a run of a shared seed lacks the metric."""
    by_name = {e.name: e for e in experiments}
    unknown = [n for n in table.experiment_names if n not in by_name]
    if unknown:
        raise KeyError(f'paired table {table.name!r} names unknown experiments {unknown}')
    runs = current_runs(results)
    rows = []
    for _, a_name, b_name in table.pairs:
        a, b = by_name[a_name], by_name[b_name]
        expected = tuple(s for s in a.seeds if s in b.seeds)
        va = _metric_by_seed(runs, a, table.split, table.metric)
        vb = _metric_by_seed(runs, b, table.split, table.metric)
        shared = [s for s in expected if s in va and s in vb]
        if not shared:
            rows.append((None, expected, False))
            continue
        if any(va[s] is None or vb[s] is None for s in shared):
            rows.append((PairedDiff(tuple(shared), (), None, None, 0, None, None), expected, True))
            continue
        rows.append(
            (paired_diff([va[s] for s in shared], [vb[s] for s in shared], shared), expected, False)
        )
    return rows


def format_p(p: float | None) -> str:
    if p is None:
        return '–'
    return '< 0.001' if p < 0.001 else f'{p:.3f}'


def _cells(diff: PairedDiff | None, missing_metric: bool) -> list[str]:
    if diff is None:
        return [NOT_RUN] * 5
    if missing_metric:
        return ['-'] * 5  # a metric one of the models does not report
    mean = f'{diff.mean:+.2f}' + ('' if diff.se is None else f' ± {diff.se:.2f}')
    return [
        mean,
        ' / '.join(f'{d:+.2f}' for d in diff.diffs),
        f'{diff.ahead} of {len(diff.diffs)}',
        '–' if diff.t is None else f'{diff.t:.2f}',
        format_p(diff.p),
    ]


def render_paired_table(
    table: PairedDiffTable, experiments: Sequence[Experiment], results: dict
) -> str:
    """The markdown of ``table`` (the pairs, the metric's protocol, provenance)."""
    by_name = {e.name: e for e in experiments}
    compared = compare(table, experiments, results)
    header = [
        table.row_header,
        'a − b (mean ± s.e.)',
        'per seed',
        'a ahead',
        't',
        'p (paired t-test)',
        'seeds',
    ]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for (label, _, _), (diff, expected, missing) in zip(table.pairs, compared):
        seeds = _seeds_text(diff.seeds if diff is not None else (), expected)
        lines.append('| ' + ' | '.join([label] + _cells(diff, missing) + [seeds]) + ' |')
    lines.append('')
    rows = [by_name[n] for n in table.experiment_names]
    column = Column(table.metric, table.split, table.metric)
    protocols = _column_protocols(
        current_runs(results), rows, column, Table(table.name, table.doc, (column,))
    )
    where = f'{_metric_name(table.metric)} on {table.split}'
    lines.append(protocol_note(f'Compared: {where}', protocols))
    lines.append(
        '- a − b per seed that both rows have a run of (the same `randomness.seed`); mean ± '
        'standard error (sample std / √n) over those seeds; "a ahead": the seeds in which a is '
        'above b; t and p: two-sided paired t-test (`scipy.stats.ttest_rel`, n − 1 degrees of '
        'freedom), "–" for fewer than two seeds or differences that do not vary.'
    )
    lines.append(
        '- Rows: '
        + '; '.join(f'{label}: a = `{a}`, b = `{b}`' for label, a, b in table.pairs)
        + '.'
    )
    build = results_build(results)
    if build is not None:
        lines.append(f'- Measured on SynthGround {build_text(build)}.')
    waiting = [
        label
        for (label, _, _), (diff, expected, _) in zip(table.pairs, compared)
        if diff is None or len(diff.seeds) < len(expected)
    ]
    lines.append(
        '- Generated by `make leaderboard` from `results/synthground.json` (paired differences '
        'over the seeds listed); do not edit by hand.'
        + (f' Awaiting a full `make leaderboard` run: {", ".join(waiting)}.' if waiting else '')
    )
    return '\n'.join(lines)
