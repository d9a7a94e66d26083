"""The generated tables of the docs: rendered from the results file, between markers.

A :class:`Table` names the doc page it lives in and its columns; its rows are the experiments
that list the table (:class:`~mmgrounding.apis.experiments.Experiment.tables`), in registry
order. In the page the table sits between ``<!-- results:begin NAME -->`` and
``<!-- results:end NAME -->``; :func:`rewrite_docs` replaces what is between them with
:func:`render_table` of the results, :func:`stale_tables` lists the tables whose page differs
from that rendering (the docs test). Cells hold the mean ± sample standard deviation over the
seeds of the row that the results file holds; a ``seeds`` column says which those are, and a
row without any run says ``not run``. Under each table every metric column's protocol is
printed as the metric objects of the runs stated it, and the SynthGround build the runs were
measured on. Only the runs of the results file's build count (:func:`current_runs`): a run of
another build is not run, except in a table none of whose trained rows has a run of that build
yet (:func:`table_runs`): such a table keeps the numbers of the build its runs were measured on,
and says so, until it is re-measured.

Tables that read files of their own (``reads_files = True``: their ``render`` takes the
``results_root``) live in their modules: :mod:`~mmgrounding.apis.builds_tables` (the builds
comparison), :mod:`~mmgrounding.apis.determinism_tables` (``results/determinism*.json``) and
:mod:`~mmgrounding.apis.data_report` (the build's data numbers); a table type with a
``render(experiments, results)`` of its own (:mod:`~mmgrounding.apis.paired_tables`) renders
from the results file.
"""

import dataclasses
import os.path as osp
import re
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence

from .experiments import REPO_ROOT, Experiment, build_text, record_build, run_key

BEGIN = '<!-- results:begin {} -->'
END = '<!-- results:end {} -->'
NOT_RUN = 'not run'


@dataclasses.dataclass(frozen=True)
class Column:
    """A column of a generated table.

    Attributes:
        header: the column header.
        split: the benchmark split (``None`` for a paper column).
        metric: the metric key, e.g. ``'pointing/accuracy'``, ``'box_recall/R@1'``.
        kind: ``'mean'`` (mean ± std over the seeds), ``'seeds'`` (each seed's value, in the
            order of the row's seeds) or ``'paper'`` (the row's ``paper[table][header]``, a
            citation).
    """

    header: str
    split: str | None = None
    metric: str | None = None
    kind: str = 'mean'

    def __post_init__(self):
        if self.kind not in ('mean', 'seeds', 'paper'):
            raise ValueError(f'column kind must be mean, seeds or paper, got {self.kind!r}')
        if self.kind != 'paper' and (self.split is None or self.metric is None):
            raise ValueError(f'column {self.header!r} needs a split and a metric')


@dataclasses.dataclass(frozen=True)
class Table:
    """A generated table: its marker name, its page and its columns."""

    name: str
    doc: str
    columns: tuple[Column, ...]
    row_header: str = 'method'

    @property
    def splits(self) -> list[str]:
        return list(dict.fromkeys(c.split for c in self.columns if c.split is not None))


def ablation_table(
    name: str,
    doc: str,
    *,
    row_header: str,
    val_split: str,
    test_split: str,
    paper: str | None = None,
    val: Mapping[str, str] | None = None,
    test: Mapping[str, str] | None = None,
    per_seed: Mapping[str, str] | None = None,
) -> Table:
    """The shape of a method page's ablation table, one row per recipe.

    Columns, in this order: the paper's number (``paper``: its header), the metrics that
    choose a recipe on ``val_split``, those reported on ``test_split`` (mean ± std over the
    seeds) and the ``test_split`` values seed by seed. ``val``, ``test`` and ``per_seed`` map
    a column header to its metric key, in column order.
    """
    columns = [Column(paper, kind='paper')] if paper is not None else []
    for split, metrics, kind in (
        (val_split, val, 'mean'),
        (test_split, test, 'mean'),
        (test_split, per_seed, 'seeds'),
    ):
        columns += [Column(h, split, m, kind=kind) for h, m in (metrics or {}).items()]
    if not columns:
        raise ValueError(f'table {name!r} has no column')
    return Table(name, doc, tuple(columns), row_header=row_header)


def results_build(results: dict) -> dict | None:
    """The build the tables report: ``results['build']`` (the build the registry last ran
    on), else, for a file from before builds were recorded, the one build all its runs have."""
    if results.get('build'):
        return results['build']
    builds = {
        tuple(sorted(b.items()))
        for b in map(record_build, results.get('runs', {}).values())
        if b is not None
    }
    return dict(builds.pop()) if len(builds) == 1 else None


def current_runs(results: dict) -> dict:
    """The runs of :func:`results_build`'s build; a run of another build counts as not run."""
    runs = results.get('runs', {})
    build = results_build(results)
    if build is None:
        return dict(runs)
    return {k: r for k, r in runs.items() if record_build(r) in (build, None)}


def rows_of(table: Table, experiments: Sequence[Experiment]) -> list[Experiment]:
    return [e for e in experiments if table.name in e.tables]


def table_runs(
    table: Table, experiments: Sequence[Experiment], results: dict
) -> tuple[dict, dict | None, bool]:
    """The runs ``table`` reports, their build, and whether that is an earlier build.

    The runs of the results file's build (:func:`current_runs`), unless no trained row of the
    table has a run of that build yet while some have runs of another: then the table is not
    re-measured yet, and it reports the build most of its trained rows' runs were measured on
    (rather than a table of ``not run``); its notes say so.
    """
    runs = current_runs(results)
    build = results_build(results)
    trained = [e for e in rows_of(table, experiments) if e.train]
    if build is None or not trained or any(_present(runs, e, table) for e in trained):
        return runs, build, False
    all_runs = results.get('runs', {})
    # the builds of the runs that hold the table's splits (a table whose splits no run holds
    # yet, e.g. a new one, is not run rather than "not yet re-measured")
    counts = Counter(
        tuple(sorted(b.items()))
        for e in trained
        for seed in _present(all_runs, e, table)
        if (b := record_build(all_runs[run_key(e.name, seed)])) is not None
    )
    if not counts:
        return runs, build, False
    earlier = dict(counts.most_common(1)[0][0])
    kept = {k: r for k, r in all_runs.items() if record_build(r) in (earlier, None)}
    return kept, earlier, True


def _values(runs: dict, experiment: Experiment, column: Column) -> list[float | None]:
    """Per seed of the row: the metric, or None when the run or the metric is missing."""
    values = []
    for seed in experiment.seeds:
        run = runs.get(run_key(experiment.name, seed))
        split = (run or {}).get('splits', {}).get(column.split)
        values.append(None if split is None else split['metrics'].get(column.metric))
    return values


def _present(runs: dict, experiment: Experiment, table: Table) -> list[int]:
    """The seeds whose run holds every split the table reads."""
    return [
        seed
        for seed in experiment.seeds
        if all(
            split in runs.get(run_key(experiment.name, seed), {}).get('splits', {})
            for split in table.splits
        )
    ]


def format_cell(values: Sequence[float]) -> str:
    if not values:
        return '-'
    if len(values) == 1:
        return f'{values[0]:.2f}'
    return f'{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}'


def protocol_note(what: str, protocols: list) -> str:
    """The note under a table on what ``what`` measures: ``protocols`` as
    :func:`_column_protocols` gives them (one text for every row, or a text per group of rows;
    none: no run yet)."""
    if not protocols:
        return f'- {what}; no run yet.'
    if len(protocols) == 1:
        return f'- {what}, {protocols[0][0]}.'
    parts = '; '.join(f'{text} for {", ".join(labels)}' for text, labels in protocols)
    return f'- {what}, {parts}.'


def _seeds_text(present: list[int], seeds: Sequence[int]) -> str:
    if not present:
        return NOT_RUN
    text = ', '.join(str(s) for s in present)
    return text if len(present) == len(seeds) else f'{text} (of {len(seeds)})'


def _cell(
    runs: dict, experiment: Experiment, table: Table, column: Column, present: list[int]
) -> str:
    if column.kind == 'paper':
        value = experiment.paper.get(table.name, {}).get(column.header)
        return '–' if value is None else str(value)
    if not present:
        return NOT_RUN
    by_seed = dict(zip(experiment.seeds, _values(runs, experiment, column)))
    values = [by_seed[s] for s in present]
    if column.kind == 'seeds':
        return ' / '.join('-' if v is None else f'{v:.2f}' for v in values)
    if any(v is None for v in values):
        # a metric the model does not report (R@k of a heatmap-only model)
        return '-'
    return format_cell(values)


def protocol_text(protocol: dict) -> str:
    """A recorded metric protocol as text: the metric with its settings, the point source."""
    items = sorted(protocol['settings'].items(), key=lambda kv: (kv[0] != 'protocol', kv[0]))
    settings = ', '.join(f'{k}={v!r}' for k, v in items)
    text = f'`{protocol["metric"]}({settings})`'
    predicts = protocol.get('predicts') or []
    if protocol['metric'] == 'PointingGameMetric' and predicts:
        text += (
            ', point from the heatmap' if 'pred_heatmaps' in predicts else ', point at the top box'
        )
    return text


def _column_protocols(
    runs: dict, rows: list[Experiment], column: Column, table: Table
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(protocol text, row labels) of a metric column, grouped by protocol."""
    prefix = column.metric.split('/', 1)[0]
    groups: dict[str, list[str]] = {}
    for experiment in rows:
        texts = set()
        for seed in _present(runs, experiment, table):
            split = runs[run_key(experiment.name, seed)]['splits'][column.split]
            if column.metric in split['metrics'] and prefix in split.get('protocols', {}):
                text = protocol_text(split['protocols'][prefix])
                if split.get('autocast'):  # evaluated under autocast (an amp split)
                    text += f', tested under {split["autocast"]} autocast'
                texts.add(text)
        for text in sorted(texts):
            groups.setdefault(text, []).append(experiment.label_in(table.name))
    return tuple((text, tuple(labels)) for text, labels in groups.items())


def _metric_name(metric: str) -> str:
    if metric.startswith('pointing/'):
        kind = 'pointing accuracy'
        sub = metric.split('/', 1)[1]
        return kind if sub == 'accuracy' else f'{kind} ({sub} phrases)'
    if metric.startswith('box_recall/'):
        return f'box accuracy {metric.split("/", 1)[1]}'
    return metric


def render_table(table: Table, experiments: Sequence[Experiment], results: dict) -> str:
    """The markdown of ``table`` (table, protocol notes, provenance) from ``results``."""
    runs, build, earlier = table_runs(table, experiments, results)
    rows = rows_of(table, experiments)
    header = [table.row_header] + [c.header for c in table.columns] + ['seeds']
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for experiment in rows:
        present = _present(runs, experiment, table)
        cells = [_cell(runs, experiment, table, c, present) for c in table.columns]
        lines.append(
            '| '
            + ' | '.join(
                [experiment.label_in(table.name)] + cells + [_seeds_text(present, experiment.seeds)]
            )
            + ' |'
        )
    lines.append('')
    # one note per group of columns that measure the same thing under the same protocols
    notes: dict[tuple, list[str]] = {}
    for column in table.columns:
        if column.kind == 'paper':
            continue
        key = (_metric_name(column.metric), _column_protocols(runs, rows, column, table))
        notes.setdefault(key, []).append(column.header)
    for (metric_name, protocols), headers in notes.items():
        where = ', '.join(f'"{h}"' for h in headers)
        lines.append(protocol_note(f'{where}: {metric_name}', protocols))
    if any(c.kind == 'paper' for c in table.columns):
        lines.append('- "paper" columns: the published numbers, cited, not measured here.')
    waiting = [e.label_in(table.name) for e in rows if len(_present(runs, e, table)) < len(e.seeds)]
    if earlier:
        lines.append(
            f'- Measured on SynthGround {build_text(build)}; not yet re-measured on the '
            f'current build, {build_text(results_build(results))}.'
        )
    elif build is not None:
        lines.append(f'- Measured on SynthGround {build_text(build)}.')
    lines.append(
        '- Generated by `make leaderboard` from `results/synthground.json` (mean ± '
        'sample std over the seeds listed); do not edit by hand.'
        + (f' Awaiting a full `make leaderboard` run: {", ".join(waiting)}.' if waiting else '')
    )
    return '\n'.join(lines)


def render_generated(
    table, experiments: Sequence[Experiment], results: dict, results_root: str = REPO_ROOT
) -> str:
    """A generated table's markdown: a :class:`Table` from ``results``; a table type of another
    module by its own ``render`` (with ``results_root`` when it reads files of its own)."""
    if getattr(table, 'reads_files', False):
        return table.render(experiments, results, results_root=results_root)
    if hasattr(table, 'render'):  # e.g. paired_tables.PairedDiffTable
        return table.render(experiments, results)
    return render_table(table, experiments, results)


def _block(name: str, body: str) -> str:
    return f'{BEGIN.format(name)}\n{body}\n{END.format(name)}'


def _pattern(name: str) -> re.Pattern:
    return re.compile(re.escape(BEGIN.format(name)) + r'\n.*?' + re.escape(END.format(name)), re.S)


def _replace(text: str, table: Table, body: str, path: str) -> str:
    matches = _pattern(table.name).findall(text)
    if len(matches) != 1:
        raise ValueError(
            f'{path}: expected one block of markers {BEGIN.format(table.name)} '
            f'... {END.format(table.name)}, found {len(matches)}'
        )
    return _pattern(table.name).sub(lambda _: _block(table.name, body), text)


def rendered_docs(
    tables: Sequence,
    experiments: Sequence[Experiment],
    results: dict,
    docs_root: str,
    *,
    results_root: str = REPO_ROOT,
) -> dict[str, tuple[str, str]]:
    """``{page path: (current text, text with every generated table re-rendered)}``.

    A :class:`Table` renders from ``results``; a table that reads files of its own from them
    under ``results_root`` (:func:`render_generated`)."""
    pages: dict[str, tuple[str, str]] = {}
    for table in tables:
        path = osp.join(docs_root, table.doc)
        if path not in pages:
            with open(path, encoding='utf-8') as f:
                text = f.read()
            pages[path] = (text, text)
        current, new = pages[path]
        pages[path] = (
            current,
            _replace(new, table, render_generated(table, experiments, results, results_root), path),
        )
    return pages


def rewrite_docs(
    tables: Sequence,
    experiments: Sequence[Experiment],
    results: dict,
    docs_root: str,
    *,
    results_root: str = REPO_ROOT,
) -> list[str]:
    """Re-render every generated table in its page; returns the pages that changed."""
    from mmgrounding.utils.atomic import atomic_open

    changed = []
    pages = rendered_docs(tables, experiments, results, docs_root, results_root=results_root)
    for path, (current, new) in pages.items():
        if new != current:
            with atomic_open(path, 'w') as f:
                f.write(new)
            changed.append(path)
    return changed


def stale_tables(
    tables: Sequence,
    experiments: Sequence[Experiment],
    results: dict,
    docs_root: str,
    *,
    results_root: str = REPO_ROOT,
) -> list[str]:
    """``'page: table'`` for every generated table whose page text differs from the results."""
    stale = []
    for table in tables:
        path = osp.join(docs_root, table.doc)
        with open(path, encoding='utf-8') as f:
            text = f.read()
        body = render_generated(table, experiments, results, results_root)
        if _replace(text, table, body, path) != text:
            stale.append(f'{table.doc}: {table.name}')
    return stale
