"""Live console progress of the experiment runner (rich), one line of summary per stage.

:class:`TrainingDisplay` follows the JSON-lines files that :class:`ProgressReportHook` writes in
the training processes: per training the model, iteration / total, the latest loss, elapsed and
remaining time. :class:`EvalDisplay` draws a bar per evaluation from the records of the same
hook running in this process. On a console that is not a terminal (a log file, CI) rich draws
nothing live, so both also print a plain status line every ``plain_interval`` seconds. The
console is bound to the ``sys.stdout`` of its creation: the evaluations send their own console
log to a file (``sys.stdout`` redirected), the display stays on the terminal.
"""

import json
import os.path as osp
import sys
import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

# the JSON-lines file ProgressReportHook writes in a training's work dir
PROGRESS_FILE = 'progress.jsonl'


class JsonLinesTail:
    """The records appended to a JSON-lines file since the last :meth:`read`."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.offset = 0
        self.partial = ''

    def read(self) -> list[dict]:
        if not osp.isfile(self.path):
            return []
        with open(self.path) as f:
            f.seek(self.offset)
            text = f.read()
            self.offset = f.tell()
        lines = (self.partial + text).split('\n')
        self.partial = lines.pop()  # an unfinished last line waits for the next read
        records = []
        for line in lines:
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:  # a line cut by a killed writer: skip it
                    continue
        return records


def format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f'{seconds} s'
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f'{minutes} min {seconds:02d} s'
    hours, minutes = divmod(minutes, 60)
    return f'{hours} h {minutes:02d} min'


def _loss_text(losses: dict) -> str:
    if not losses:
        return ''
    parts = [f'loss {losses["loss"]:.4g}'] if 'loss' in losses else []
    parts += [
        f'{k.removeprefix("loss_")} {v:.3g}' for k, v in losses.items() if k.startswith('loss_')
    ][:4]
    return '  '.join(parts)


def _progress(console: Console, *extra) -> Progress:
    return Progress(
        TextColumn('{task.description}'),
        BarColumn(bar_width=24),
        MofNCompleteColumn(),
        *extra,
        TimeElapsedColumn(),
        TextColumn('left'),
        TimeRemainingColumn(),
        console=console,
        refresh_per_second=2,
    )


class TrainingDisplay:
    """Progress of the trainings of :func:`mmgrounding.apis.experiments.train_all`."""

    def __init__(self, console: Console | None = None, *, plain_interval: float = 60.0) -> None:
        self.console = console or Console(file=sys.stdout, soft_wrap=True)
        self.progress = _progress(self.console, TextColumn('{task.fields[loss]}'))
        self.plain_interval = plain_interval
        self.tasks: dict[str, int] = {}
        self.tails: dict[str, JsonLinesTail] = {}
        self.last_plain: dict[str, float] = {}
        self.state: dict[str, dict] = {}
        self.counts = dict(trained=0, resumed=0, reused=0)
        self.seconds: list[float] = []
        self.start = time.perf_counter()

    def __enter__(self) -> 'TrainingDisplay':
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def _task(self, run, status: str) -> int:
        if run.key not in self.tasks:
            self.tasks[run.key] = self.progress.add_task(
                run.display_name, total=None, start=False, loss=status
            )
        return self.tasks[run.key]

    def waiting(self, run) -> None:
        self._task(run, 'waiting')

    def reused(self, run) -> None:
        task = self._task(run, 'reused (final checkpoint present)')
        self.progress.update(task, total=1, completed=1)
        self.counts['reused'] += 1

    def started(self, run, *, resume: bool) -> None:
        task = self._task(run, '')
        self.progress.start_task(task)
        self.progress.update(task, loss='resuming' if resume else 'starting')
        self.tails[run.key] = JsonLinesTail(osp.join(run.work_dir, PROGRESS_FILE))
        self.state[run.key] = {}
        if resume:
            # a resumed run continues its progress file: skip what the last run wrote
            self.tails[run.key].read()
        self.console.print(
            f'{"resuming" if resume else "training"} {run.display_name} '
            f'(log: {osp.join(run.work_dir, "train.log")})'
        )

    def poll(self, run) -> None:
        tail = self.tails.get(run.key)
        if tail is None:
            return
        task = self.tasks[run.key]
        state = self.state[run.key]
        for record in tail.read():
            if record.get('stage') != 'train':
                if record.get('stage') == 'val' and record.get('event') == 'start':
                    self.progress.update(task, loss='validating')
                continue
            if record['event'] == 'start':
                # from the iteration it starts at: no speed sample for a resumed run's jump
                self.progress.reset(task, total=record['total'], completed=record['iter'])
                state.update(record)
            elif record['event'] == 'iter':
                self.progress.update(
                    task,
                    total=record['total'],
                    completed=record['iter'],
                    loss=_loss_text(record.get('losses', {})),
                )
                state.update(record)
        now = time.perf_counter()
        if (
            not self.console.is_terminal
            and state.get('iter') is not None
            and now - self.last_plain.get(run.key, 0.0) >= self.plain_interval
        ):
            self.last_plain[run.key] = now
            info = self.progress.tasks[task]
            remaining = info.time_remaining  # rich's estimate from the recent speed
            self.console.print(
                f'  {run.display_name}: iter {state["iter"]}/{state["total"]}  '
                f'{_loss_text(state.get("losses", {}))}  '
                f'elapsed {format_seconds(info.elapsed or 0.0)}'
                + (f'  remaining {format_seconds(remaining)}' if remaining is not None else '')
            )

    def finished(self, run, result) -> None:
        task = self.tasks[run.key]
        self.progress.update(
            task,
            completed=self.progress.tasks[task].total or 1,
            loss=f'done in {format_seconds(result.seconds)}',
        )
        self.progress.stop_task(task)
        self.counts[result.status] += 1
        self.seconds.append(result.seconds)
        self.console.print(
            f'{result.status} {run.display_name} in '
            f'{format_seconds(result.seconds)}: {result.checkpoint}'
        )

    def summary(self) -> str:
        parts = [f'{n} {status}' for status, n in self.counts.items() if n]
        return (
            f'training: {", ".join(parts) or "nothing to train"} in '
            f'{format_seconds(time.perf_counter() - self.start)}'
        )


class EvalDisplay:
    """A progress bar per evaluation (model × split) run in this process."""

    def __init__(self, console: Console | None = None, *, plain_interval: float = 60.0) -> None:
        self.console = console or Console(file=sys.stdout, soft_wrap=True)
        self.progress = _progress(self.console)
        self.plain_interval = plain_interval
        self.tasks: dict[tuple[str, str], int] = {}
        self.last_plain = 0.0
        self.count = 0
        self.start = time.perf_counter()

    def __enter__(self) -> 'EvalDisplay':
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def update(self, name: str, split: str, record: dict) -> None:
        if record.get('stage') != 'test':
            return
        key = (name, split)
        if record['event'] == 'start':
            self.tasks[key] = self.progress.add_task(f'{name} · {split}', total=record['total'])
            return
        task = self.tasks.get(key)
        if task is None:
            return
        self.progress.update(task, completed=record['iter'], total=record['total'])
        if record['event'] == 'end':
            self.count += 1
            metrics = record.get('metrics', {})
            shown = [
                f'{"pointing" if k == "pointing/accuracy" else k.split("/")[-1]} {v:.2f}'
                for k, v in metrics.items()
                if k == 'pointing/accuracy' or k.startswith('box_recall/')
            ]
            elapsed = self.progress.tasks[task].elapsed or 0.0
            self.console.print(
                f'evaluated {name} · {split} in {format_seconds(elapsed)}: ' + ', '.join(shown)
            )
        elif not self.console.is_terminal:
            now = time.perf_counter()
            if now - self.last_plain >= self.plain_interval:
                self.last_plain = now
                self.console.print(f'  {name} · {split}: batch {record["iter"]}/{record["total"]}')

    def summary(self) -> str:
        return (
            f'evaluation: {self.count} evaluations in '
            f'{format_seconds(time.perf_counter() - self.start)}'
        )
