"""A generated table comparing SynthGround builds on the rows of another table.

A :class:`BuildsTable` gives, for each row of a :class:`~mmgrounding.apis.results_tables.Table`,
the means of its ``mean`` columns on each build, each read from that build's own results
file, and their difference (:func:`render_builds_table`); a file that does not exist yet, or
lacks a row, renders ``not run``.
"""

import dataclasses
import json
import os.path as osp
import statistics
from collections.abc import Sequence

from .experiments import REPO_ROOT, Experiment, build_text
from .results_tables import (
    NOT_RUN,
    Column,
    Table,
    _column_protocols,
    _metric_name,
    _present,
    _seeds_text,
    _values,
    current_runs,
    format_cell,
    protocol_note,
    results_build,
    rows_of,
)


@dataclasses.dataclass(frozen=True)
class BuildsTable:
    """A generated table comparing SynthGround builds on the rows of another table.

    Attributes:
        name: the marker name.
        doc: the page it lives in.
        table: the table whose rows (its experiments) and ``mean`` columns it compares.
        builds: ``(label, results file)`` per build, the file relative to the repository;
            the first is the reference the differences are taken from.
    """

    name: str
    doc: str
    table: Table
    builds: tuple[tuple[str, str], ...]
    row_header: str = 'method'

    def __post_init__(self):
        if len(self.builds) < 2:
            raise ValueError(f'builds table {self.name!r} needs two builds or more')

    reads_files = True  # render() takes results_root (results_tables.render_generated)

    @property
    def columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.table.columns if c.kind == 'mean')

    def render(self, experiments, results=None, results_root: str = REPO_ROOT) -> str:
        """From its builds' files under ``results_root`` (``results`` is not read)."""
        return render_builds_table(self, experiments, read_builds_results(self, results_root))


def read_builds_results(table: BuildsTable, results_root: str = REPO_ROOT) -> list[dict | None]:
    """The results file of each build of ``table`` (``None`` where it does not exist yet)."""
    loaded = []
    for _, path in table.builds:
        full = osp.join(results_root, path)
        if not osp.isfile(full):
            loaded.append(None)
            continue
        with open(full, encoding='utf-8') as f:
            loaded.append(json.load(f))
    return loaded


def _build_mean(runs: dict, experiment: Experiment, column: Column, present: list[int]):
    """The mean over the present seeds of a row, its cell text (``None``: not a number)."""
    if not present:
        return None, NOT_RUN
    by_seed = dict(zip(experiment.seeds, _values(runs, experiment, column)))
    values = [by_seed[s] for s in present]
    if any(v is None for v in values):
        return None, '-'  # a metric the model does not report
    return statistics.mean(values), format_cell(values)


def render_builds_table(
    table: BuildsTable, experiments: Sequence[Experiment], results: Sequence[dict | None]
) -> str:
    """The markdown of a :class:`BuildsTable` from each build's results (``None``: no file).

    Per row and ``mean`` column of ``table.table``: the mean ± sample std over the row's seeds
    that each build's file holds (only the runs of the file's own build,
    :func:`current_runs`), then each later build's mean minus the first's (``Δ``), ``not run``
    where either has no run of the row.
    """
    if len(results) != len(table.builds):
        raise ValueError(f'{table.name}: {len(table.builds)} builds, {len(results)} results')
    runs_of = [current_runs(r) if r is not None else {} for r in results]
    labels = [label for label, _ in table.builds]
    header = [table.row_header]
    for column in table.columns:
        header += [f'{column.header} ({label})' for label in labels]
        header += [
            f'{column.header} Δ' + (f' ({label})' if len(labels) > 2 else '')
            for label in labels[1:]
        ]
    header += [f'seeds ({label})' for label in labels]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    rows = rows_of(table.table, experiments)
    for experiment in rows:
        present = [_present(runs, experiment, table.table) for runs in runs_of]
        cells = []
        for column in table.columns:
            means = [_build_mean(runs, experiment, column, p) for runs, p in zip(runs_of, present)]
            cells += [text for _, text in means]
            for mean, text in means[1:]:
                if means[0][0] is None or mean is None:
                    cells.append(NOT_RUN if NOT_RUN in (means[0][1], text) else '-')
                else:
                    cells.append(f'{mean - means[0][0]:+.2f}')
        cells += [_seeds_text(p, experiment.seeds) for p in present]
        lines.append('| ' + ' | '.join([experiment.label_in(table.table.name)] + cells) + ' |')
    lines.append('')
    notes: dict[tuple, list[str]] = {}
    for column in table.columns:
        groups: dict[str, list[str]] = {}
        for runs in runs_of:
            for text, row_labels in _column_protocols(runs, rows, column, table.table):
                known = groups.setdefault(text, [])
                known += [label for label in row_labels if label not in known]
        key = (_metric_name(column.metric), tuple((t, tuple(ls)) for t, ls in groups.items()))
        notes.setdefault(key, []).append(column.header)
    for (metric_name, protocols), headers in notes.items():
        where = ', '.join(f'"{h}"' for h in headers)
        lines.append(protocol_note(f'{where}: {metric_name}', protocols))
    lines.append(
        "- Δ: the build's mean minus that of "
        f'{labels[0]}, over the seeds each holds; mean ± sample std over the seeds listed.'
    )
    for (label, path), result in zip(table.builds, results):
        build = results_build(result) if result is not None else None
        if result is None:
            lines.append(f'- {label}: `{path}`, not run yet (no such file).')
        elif build is None:
            lines.append(f'- {label}: `{path}`, no build recorded.')
        else:
            lines.append(f'- {label}: `{path}`, measured on SynthGround {build_text(build)}.')
    lines.append(
        '- Generated by `make leaderboard` and `make leaderboard-build1` from the files above '
        '(the rows of `' + table.table.name + '`); do not edit by hand.'
    )
    return '\n'.join(lines)
