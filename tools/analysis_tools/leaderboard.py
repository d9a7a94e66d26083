"""Evaluate models on benchmark splits and print the papers' tables; `make leaderboard`.

Two modes.

The registry (``make leaderboard``): every SynthGround recipe of
``mmgrounding/apis/synthground_leaderboard.py`` is trained over its seeds (resumable: finished
trainings are reused, interrupted ones resumed), evaluated on the splits its tables read, its
runs are merged into ``results/synthground.json`` and the generated tables of the docs are
rewritten between their markers:

    python tools/analysis_tools/leaderboard.py --all [--jobs 2 --threads 1]
    python tools/analysis_tools/leaderboard.py --only infoground-table2 --seeds 0
    python tools/analysis_tools/leaderboard.py --render      # the docs from the JSON only
    python tools/analysis_tools/leaderboard.py --check       # exit 1 when the docs differ
    python tools/analysis_tools/leaderboard.py --only amc --max-iters 20 --out smoke.json
    python tools/analysis_tools/leaderboard.py --only synthground-methods \\
        --synthground-root data/synthground-seed1/     # `make leaderboard-build1`

``--synthground-root DIR`` runs the recipes on another SynthGround build: every path of every
recipe under ``data/synthground/`` (data roots, region cache, vocabularies, masked LM, word
caches, paraphrases, CAM classifier) moves to DIR, the trainings go to the build's own work
dirs (``work_dirs/leaderboard/<preset>-seed<S>``) and the runs to its own results file
(``results/synthground_<preset>-seed<S>.json``, from DIR's ``meta.json``); of the docs only the
builds tables that read that file (``synthground-methods-builds``) are rewritten.

``--max-iters`` trains a shorter schedule in its own work dirs (smoke runs); its numbers are
never merged into ``results/synthground.json`` nor into the docs (``--out`` is required).

``--add-splits`` evaluates a run only on the splits its record in the results file lacks, when
that record is of the same training (recipe, seed, weights, build): the record keeps
everything it holds and gains the new splits, e.g. a paper protocol table added to the
registry (``amc-paper-protocol``) on runs whose trainings exist:

    python tools/analysis_tools/leaderboard.py --only amc-paper-protocol --add-splits

Given models (``--model NAME CONFIG [CHECKPOINT]``, repeated):

    python tools/analysis_tools/leaderboard.py --suite synthground --layout papers \\
        --model "centre baseline" configs/baselines/centre_synthground_flickr30k.py \\
        --model "AMC" configs/amc/amc_albef-tiny_1xb32-6e_synthground.py AMC_CHECKPOINT \\
        --out leaderboard.json

Each model keeps its own test pipeline (image size, normalisation); only the dataset of its
test loader is swapped for each benchmark split. ``--paper NAME METHOD`` evaluates the model
NAME under METHOD's paper protocol instead (``mmgrounding/apis/paper_protocols.py``): per
split the paper config's test ``Resize`` replaces the model's and the paper config's
evaluator the split's, its pointing game under the paper's named protocol (AMC: RefCOCO+ and
ReferIt at 384 px bicubic, Flickr30k at 256 px, ``amc_official``); a split the paper does not
evaluate is left empty. Every column's protocol is printed under the table. Layouts:
- ``papers``: pointing accuracy on Flickr30k | RefCOCO+ testA | RefCOCO+ testB | ReferIt
  (AMC Table 1, InfoGround, CKD);
- ``flickr30k``: pointing accuracy and R@1/5/10 on Flickr30k Entities test, and the
  per-phrase-type table (AMC Table 4);
- ``refcoco``: testA / testB; ``referit``: test.
Suites: ``real`` (the configs under ``configs/_base_/datasets/`` for the public data) and
``synthground`` (the same formats written by SynthGround; its ReferIt column reads the build's
own ReferItGame split, ``synthground_referit_v2.py``, on a build that has one (v2, the
default), and on a v1 build, which has none, ``synthground_referit.py``: the RefCOCO files
with the ReferIt loader and their val split). Every registry run records the SynthGround build
it was measured on (preset, seed, size, generator version); the tables count only the runs of
the build the results file was last run on (``results['build']``), the others as not run. The
table is printed as markdown and everything is also saved as JSON, with the protocol of every
metric.
"""

import argparse
import dataclasses
import fcntl
import json
import os
import os.path as osp
import sys
from collections import OrderedDict

from mmengine.config import Config

from mmgrounding.apis import experiments as ex
from mmgrounding.apis import results_tables
from mmgrounding.apis import synthground_leaderboard as registry
from mmgrounding.apis.determinism_tables import max_metric_diff
from mmgrounding.apis.experiments import SUITES, benchmark_dataset  # noqa: F401 (tool API)
from mmgrounding.apis.paper_protocols import PAPER_PROTOCOLS, paper_column, resize_text
from mmgrounding.utils import register_all_modules
from mmgrounding.utils.atomic import atomic_write_json

ROOT = ex.REPO_ROOT
RESULTS = osp.join(ROOT, 'results', 'synthground.json')
RESULTS_FORMAT = 'mmgrounding/synthground-results/1'
LAYOUTS = {
    'papers': ['Flickr30k', 'RefCOCO+ testA', 'RefCOCO+ testB', 'ReferIt'],
    'flickr30k': ['Flickr30k'],
    'refcoco': ['RefCOCO+ testA', 'RefCOCO+ testB'],
    'referit': ['ReferIt'],
}
POINTING = 'pointing/accuracy'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        '--model',
        nargs='+',
        action='append',
        metavar='NAME CONFIG [CHECKPOINT]',
        help='a model; repeat for more',
    )
    mode.add_argument('--all', action='store_true', help='every experiment of the registry')
    mode.add_argument(
        '--only', nargs='+', metavar='NAME', help='these experiments, or the rows of these tables'
    )
    mode.add_argument(
        '--render',
        action='store_true',
        help='rewrite the generated doc tables from --out, run nothing',
    )
    mode.add_argument(
        '--check', action='store_true', help='exit 1 when a generated doc table differs from --out'
    )
    mode.add_argument(
        '--determinism', metavar='NAME', help='train NAME twice on 1 thread and once on 2; compare'
    )
    parser.add_argument(
        '--paper',
        nargs=2,
        action='append',
        metavar=('NAME', 'METHOD'),
        help="--model mode: evaluate model NAME under METHOD's paper protocol (its resolution "
        f'and evaluator per split; one of {", ".join(sorted(PAPER_PROTOCOLS))}); repeatable',
    )
    parser.add_argument('--suite', choices=sorted(SUITES), default='synthground')
    parser.add_argument('--layout', choices=sorted(LAYOUTS), default='papers')
    parser.add_argument('--data-root', help="override every split's data_root")
    parser.add_argument(
        '--synthground-root',
        metavar='DIR',
        help='registry: run the recipes on the SynthGround build in DIR (every path of every '
        'recipe under data/synthground/ moves there, its own work dirs, results file '
        'results/synthground_<preset>-seed<S>.json); only the builds tables are rewritten',
    )
    parser.add_argument(
        '--work-dir',
        help='work dirs (default work_dirs/leaderboard, or work_dirs/leaderboard/<build> for a '
        'build other than v1 seed 0: experiments.default_work_dir)',
    )
    parser.add_argument(
        '--out',
        help='results JSON (registry default: results/synthground.json, for another '
        '--synthground-root results/synthground_<preset>-seed<S>.json)',
    )
    parser.add_argument('--seeds', nargs='+', type=int, help='only these seeds')
    parser.add_argument('--max-iters', type=int, help='smoke runs: a shorter schedule')
    parser.add_argument(
        '--splits',
        nargs='+',
        metavar='SPLIT',
        help='evaluate only these of the splits the tables read (smoke runs)',
    )
    parser.add_argument(
        '--add-splits',
        action='store_true',
        help="registry: evaluate only the splits a run's record lacks (a record of the same "
        'recipe, seed, weights and build keeps the splits it holds)',
    )
    parser.add_argument('--jobs', type=int, default=2, help='trainings at the same time')
    parser.add_argument('--threads', type=int, default=1, help='threads per training')
    parser.add_argument('--no-docs', action='store_true', help='do not rewrite the docs')
    parser.add_argument('--docs-root', default=ROOT, help='the folder holding docs/')
    return parser.parse_args(argv)


def evaluate(
    name: str,
    config: str,
    checkpoint: str | None,
    split_name: str,
    *,
    suite: str,
    data_root: str | None,
    work_dir: str,
    paper: str | None = None,
) -> dict:
    """Metrics of one given model on one split (``--model`` mode), with the protocols of its
    metrics and the column's (``column``: the paper protocol, the Resize that ran)."""
    cfg = Config.fromfile(config)
    safe = ''.join(c if c.isalnum() else '_' for c in f'{name}_{split_name}')
    if paper is not None:
        safe += f'_paper_{paper}'
    result = ex.evaluate(
        cfg,
        checkpoint=checkpoint,
        split=split_name,
        suite=suite,
        data_root=data_root,
        work_dir=osp.join(work_dir, safe),
        paper=paper,
    )
    column = dict(paper=paper, resize=result.resize)
    if paper is not None:
        column['description'] = paper_column(paper, split_name).describe()
    return dict(result.metrics, protocols=result.protocols, column=column)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    return '\n'.join(lines)


def format_tables(results: dict, layout: str) -> str:
    """The layout's table(s) from ``results[model][split] = metrics``."""
    splits = LAYOUTS[layout]
    cell = lambda m, k: f'{m[k]:.2f}' if k in m else '-'  # noqa: E731
    if layout != 'flickr30k':
        rows = [
            [name] + [cell(metrics.get(s, {}), POINTING) for s in splits]
            for name, metrics in results.items()
        ]
        return markdown_table(['method'] + splits, rows)
    keys = [POINTING, 'box_recall/R@1', 'box_recall/R@5', 'box_recall/R@10']
    main = markdown_table(
        ['method', 'pointing', 'R@1', 'R@5', 'R@10'],
        [[name] + [cell(m['Flickr30k'], k) for k in keys] for name, m in results.items()],
    )
    types = sorted(
        {
            k.split('/', 1)[1]
            for m in results.values()
            for k in m['Flickr30k']
            if k.startswith('pointing/') and k != POINTING
        }
    )
    per_type = markdown_table(
        ['method'] + types,
        [
            [name] + [cell(m['Flickr30k'], f'pointing/{t}') for t in types]
            for name, m in results.items()
        ],
    )
    return main + '\n\nPointing accuracy per phrase type\n\n' + per_type


def protocol_lines(results: dict) -> list[str]:
    """One line per metric protocol of the given models' results, naming where it applies."""
    groups: dict[str, list[str]] = OrderedDict()
    for name, splits in results.items():
        for split, metrics in splits.items():
            for protocol in metrics.get('protocols', {}).values():
                text = results_tables.protocol_text(protocol)
                groups.setdefault(text, []).append(f'{name} · {split}')
    return [f'- {text}: {", ".join(where)}' for text, where in groups.items()]


def column_lines(results: dict) -> list[str]:
    """One line per column (model · split): the paper protocol it was evaluated under, or the
    model's own pipeline and the split's evaluator, and the Resize that ran."""
    lines = []
    for name, splits in results.items():
        for split, metrics in splits.items():
            column = metrics.get('column')
            if column is None:
                continue
            if column.get('skipped'):
                lines.append(f'- {name} · {split}: {column["skipped"]}')
                continue
            resize = '; '.join(resize_text(r) for r in column['resize']) or 'no Resize'
            what = column.get('description') or "the model's test pipeline, the split's evaluator"
            lines.append(f'- {name} · {split}: {what}; ran {resize}')
    return lines


def run_given_models(args: argparse.Namespace) -> None:
    models = []
    for spec in args.model:  # all checked before the first (long) evaluation
        if len(spec) not in (2, 3):
            raise SystemExit(f'--model takes NAME CONFIG [CHECKPOINT], got {spec}')
        name, config = spec[:2]
        checkpoint = spec[2] if len(spec) == 3 and spec[2] != 'none' else None
        for path in (config, checkpoint):
            if path is not None and not osp.isfile(path):
                raise SystemExit(f'--model {name!r}: {path} does not exist')
        models.append((name, config, checkpoint))
    papers = dict(args.paper or [])
    for name, method in papers.items():
        if name not in {m[0] for m in models}:
            raise SystemExit(f'--paper {name!r}: no --model of that name')
        if method not in PAPER_PROTOCOLS:
            raise SystemExit(
                f'--paper {name!r}: {method!r} is not one of {sorted(PAPER_PROTOCOLS)}'
            )
    work_dir = args.work_dir or 'work_dirs/leaderboard'
    results: dict = OrderedDict()
    for name, config, checkpoint in models:
        paper = papers.get(name)
        results[name] = OrderedDict()
        for split in LAYOUTS[args.layout]:
            if paper is not None and paper_column(paper, split) is None:
                results[name][split] = dict(
                    protocols={}, column=dict(paper=paper, skipped=f'not in the {paper} paper')
                )
                continue
            results[name][split] = evaluate(
                name,
                config,
                checkpoint,
                split,
                suite=args.suite,
                data_root=args.data_root,
                work_dir=work_dir,
                paper=paper,
            )
    table = format_tables(results, args.layout)
    print(f'\n{args.suite} suite, {args.layout} layout\n\n{table}\n\nColumns:')
    print('\n'.join(column_lines(results)))
    print('\nProtocols:')
    print('\n'.join(protocol_lines(results)))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(dict(suite=args.suite, layout=args.layout, results=results), f, indent=2)


def load_results(path: str) -> dict:
    """The results file, or an empty one when it does not exist yet."""
    if not osp.isfile(path):
        return dict(format=RESULTS_FORMAT, suite='synthground', runs={})
    with open(path) as f:
        results = json.load(f)
    if results.get('format') != RESULTS_FORMAT:
        raise SystemExit(f'{path}: format {results.get("format")!r}, expected {RESULTS_FORMAT}')
    return results


def merge_runs(results: dict, records: dict) -> dict:
    """``results`` with ``records`` replacing the runs of the same key, in registry order."""
    runs = dict(results.get('runs', {}), **records)
    order = [ex.run_key(e.name, s) for e in registry.EXPERIMENTS for s in e.seeds]
    ordered = OrderedDict((k, runs[k]) for k in order if k in runs)
    ordered.update((k, v) for k, v in runs.items() if k not in ordered)  # retired experiments
    return dict(results, runs=ordered)


def registry_results_file(synthground_root: str | None, build: dict) -> str:
    """The results file of the registry on a build: ``results/synthground.json`` for the
    default build's folder, ``results/synthground_<preset>-seed<S>[-n<N>].json`` for another
    (:func:`~mmgrounding.apis.builds.build_tag` of its ``meta.json``)."""
    if ex.is_default_root(synthground_root):
        return RESULTS
    return osp.join(ROOT, registry.RESULTS_OF_BUILD.format(ex.build_tag(build)))


def check_or_render(args: argparse.Namespace) -> None:
    """``--check`` / ``--render``: every generated table, the registry's from ``--out``, the
    builds tables from their builds' files."""
    if args.synthground_root is not None:
        raise SystemExit(
            '--render/--check take no --synthground-root: the registry tables read --out, '
            'the builds tables the files they name'
        )
    out = args.out or RESULTS
    results = load_results(out)
    tables = registry.ALL_TABLES
    if args.check:
        stale = results_tables.stale_tables(tables, registry.EXPERIMENTS, results, args.docs_root)
        if stale:
            raise SystemExit(
                'generated tables differ from ' + out + ' (run '
                '`python tools/analysis_tools/leaderboard.py --render`):\n  ' + '\n  '.join(stale)
            )
        print(f'every generated table equals {out} and the builds tables their files')
        return
    for t in tables:
        print(
            f'\n{t.doc}: {t.name}\n\n'
            + results_tables.render_generated(t, registry.EXPERIMENTS, results)
        )
    rewrite(tables, results, args.docs_root)


def rewrite(tables, results: dict, docs_root: str) -> None:
    changed = results_tables.rewrite_docs(tables, registry.EXPERIMENTS, results, docs_root)
    print(
        'docs rewritten: '
        + (', '.join(osp.relpath(p, docs_root) for p in changed) or 'none changed')
    )


def run_registry(args: argparse.Namespace) -> None:
    registry.check_registry()
    if args.render or args.check:
        check_or_render(args)
        return
    if args.synthground_root is not None and args.data_root is not None:
        raise SystemExit('--synthground-root moves the datasets too: give it or --data-root')
    smoke = args.max_iters is not None
    if smoke and (args.out is None or osp.abspath(args.out) == RESULTS):
        raise SystemExit(
            '--max-iters (a smoke run) needs --out other than '
            "results/synthground.json: its numbers are not the recipes'"
        )
    experiments = registry.select(None if args.all else args.only)
    # the configs read data/synthground/; --data-root moves the datasets (not the caches),
    # --synthground-root every path of the build
    data_root = args.data_root
    synthground_root = None
    if args.synthground_root is not None:
        synthground_root = ex.synthground_root(args.synthground_root)
    root = data_root or synthground_root or 'data/synthground/'
    data = ex.read_data_meta(root)
    build = ex.build_identity(data)
    out = args.out or registry_results_file(synthground_root, build)
    if smoke and osp.abspath(out) == registry_results_file(synthground_root, build):
        raise SystemExit(
            f'--max-iters (a smoke run) needs --out other than {osp.relpath(out, ROOT)}: '
            "its numbers are not the recipes'"
        )
    vocab = ex.ensure_vocab(root)
    records = ex.run_experiments(
        experiments,
        splits_of=lambda e: [
            s for s in registry.splits_of(e) if args.splits is None or s in args.splits
        ],
        work_dir=args.work_dir or ex.default_work_dir(build),
        seeds=args.seeds,
        max_iters=args.max_iters,
        processes=args.jobs,
        threads=args.threads,
        suite=args.suite,
        data_root=data_root,
        vocab=vocab if data_root is not None else None,
        build=build,
        synthground_root=synthground_root,
        earlier=load_results(out)['runs'] if args.add_splits else None,
    )
    for record in records.values():
        record['smoke'] = smoke
        record['data'] = dict(data, root=root)
    # several runners may finish at once (one per method): read-merge-write under a lock
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out + '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        results = merge_runs(load_results(out), records)
        if not smoke:
            # the tables read only the runs of this build (results_tables.current_runs)
            results['build'] = build
        atomic_write_json(out, results, indent=1)
    print(f'results: {out} ({len(records)} runs written, {len(results["runs"])} in all)')
    # the registry's tables report the default build; another build's file feeds only the
    # builds tables that name it
    tables = registry.TABLES if ex.is_default_root(synthground_root) else ()
    paired = registry.PAIRED_TABLES if tables else ()  # differences between the rows above
    reads_out = [
        t
        for t in registry.BUILDS_TABLES
        if any(osp.abspath(osp.join(ROOT, path)) == osp.abspath(out) for _, path in t.builds)
    ]
    if not tables and not reads_out:
        print(f'no generated table reads {out}')
    for t in tables:
        if any(t.name in e.tables for e in experiments):
            print(
                f'\n{t.doc}: {t.name}\n\n'
                + results_tables.render_table(t, registry.EXPERIMENTS, results)
            )
    for t in reads_out:
        print(
            f'\n{t.doc}: {t.name}\n\n'
            + results_tables.render_generated(t, registry.EXPERIMENTS, results)
        )
    if args.no_docs or (smoke and args.docs_root == ROOT):
        return
    rewrite(list(tables) + list(paired) + reads_out, results, args.docs_root)


def measure_determinism(args: argparse.Namespace) -> None:
    """Train one experiment (seed 0) twice on 1 thread and twice on 2, one after the other;
    compare the weights and the Flickr30k metrics; write ``results/determinism.json``."""
    e = registry.experiment(args.determinism)
    if not e.train:
        raise SystemExit(f'{e.name} is not trained')
    work_dir = args.work_dir or 'work_dirs/determinism'
    root = 'data/synthground/'
    build = ex.build_identity(ex.read_data_meta(root))
    ex.ensure_vocab(root)
    runs = []
    for tag, threads in (('t1-a', 1), ('t1-b', 1), ('t2-a', 2), ('t2-b', 2)):
        cfg = ex.prepare_config(
            e, seed=0, work_dir=osp.join(work_dir, e.name, tag), max_iters=args.max_iters
        )
        runs.append(ex.Run(dataclasses.replace(e, name=f'{e.name}-{tag}'), 0, cfg, threads=threads))
    # one at a time: the runs must not share the cores
    trained = [next(iter(ex.train_all([run], processes=1).values())) for run in runs]
    rows = []
    for run, result in zip(runs, trained):
        evaluation = ex.evaluate(
            run.cfg,
            checkpoint=result.checkpoint,
            split='Flickr30k',
            work_dir=osp.join(run.work_dir, 'eval'),
        )
        rows.append(
            dict(
                threads=result.threads,
                weights_sha256=result.weights_sha256,
                seconds=result.seconds,
                metrics=evaluation.metrics,
            )
        )
    metric_keys = sorted(set(rows[0]['metrics']) & set(rows[2]['metrics']))
    diffs = {k: abs(rows[0]['metrics'][k] - rows[2]['metrics'][k]) for k in metric_keys}
    iters = args.max_iters or runs[0].cfg.train_cfg.get('max_iters', 'config')
    report = dict(
        experiment=e.name,
        config=e.config,
        iters=iters,
        build=build,
        runs=rows,
        same_threads_identical=rows[0]['weights_sha256'] == rows[1]['weights_sha256'],
        two_threads_identical=rows[2]['weights_sha256'] == rows[3]['weights_sha256'],
        abs_diff_two_threads={
            k: abs(rows[2]['metrics'][k] - rows[3]['metrics'][k]) for k in metric_keys
        },
        threads_1_vs_2_identical=rows[0]['weights_sha256'] == rows[2]['weights_sha256'],
        abs_diff_1_vs_2_threads=diffs,
        max_abs_diff=max_metric_diff(diffs),
        environment=ex.environment(),
    )
    record = leaderboard_record(e.name, iters, build)
    if record is not None:  # the same training in the leaderboard, perhaps on another machine
        record_metrics = record['splits']['Flickr30k']['metrics']
        keys = sorted(set(rows[0]['metrics']) & set(record_metrics))
        report['record'] = dict(
            file=osp.relpath(RESULTS, ROOT),
            key=ex.run_key(e.name, 0),
            weights_sha256=record['weights_sha256'],
            threads=record.get('training', {}).get('threads'),
            metrics=record_metrics,
            environment=record.get('environment'),
            identical=rows[0]['weights_sha256'] == record['weights_sha256'],
            abs_diff={k: abs(rows[0]['metrics'][k] - record_metrics[k]) for k in keys},
        )
    out = args.out or osp.join(ROOT, 'results', 'determinism.json')
    atomic_write_json(out, report, indent=1)
    # the tables of this file (results/determinism.json, results/determinism_full.json)
    tables = [
        t
        for t in registry.DETERMINISM_TABLES
        if osp.abspath(osp.join(ROOT, t.file)) == osp.abspath(out)
    ]
    if tables and not args.no_docs:
        rewrite(tables, {}, args.docs_root)
    print(json.dumps({k: v for k, v in report.items() if k != 'environment'}, indent=1))


def leaderboard_record(name: str, iters, build: dict) -> dict | None:
    """The ``results/synthground.json`` record of ``name`` seed 0 when it is the training a
    determinism run repeats (the same schedule and build, trained, evaluated on Flickr30k);
    None otherwise."""
    record = load_results(RESULTS)['runs'].get(ex.run_key(name, 0))
    if not record or record.get('smoke') or not record.get('weights_sha256'):
        return None
    if record.get('max_iters') != iters or record.get('build') != build:
        return None
    if 'Flickr30k' not in record.get('splits', {}):
        return None
    return record


def main(argv=None) -> None:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    if args.paper and not args.model:
        raise SystemExit('--paper is for the --model mode')
    if args.model:
        run_given_models(args)
    elif args.determinism:
        measure_determinism(args)
    else:
        run_registry(args)


if __name__ == '__main__':
    sys.exit(main())
