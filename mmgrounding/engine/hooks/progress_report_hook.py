"""Progress records (iteration, total, losses) written as JSON lines for a parent to follow."""

import json
import os
import os.path as osp
import time
from collections.abc import Callable

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from mmgrounding.registry import HOOKS


def _scalar(value) -> float | None:
    try:
        return float(value.detach().mean()) if hasattr(value, 'detach') else float(value)
    except (TypeError, ValueError):
        return None


@HOOKS.register_module()
class ProgressReportHook(Hook):
    """Report every training, validation and test iteration as one JSON line.

    A record is ``{"stage": "train" | "val" | "test", "event": "start" | "iter" | "end",
    "iter": done, "total": total, "time": unix seconds}``; training iterations also carry
    ``"losses"`` (the logged values of this iteration, ``loss`` first). The experiment runner
    (:mod:`mmgrounding.apis.experiments`) adds this hook to the configs it trains and follows
    the file to draw its progress display; the training log is unchanged.

    Args:
        file: the JSON-lines file, appended to (a resumed run continues it). ``None`` for a
            hook built in the parent process with a ``callback``.
        callback: called with each record instead of (or besides) writing it.
        min_interval: seconds between two written ``iter`` records of one stage (the last
            iteration of a stage is always written).
    """

    priority = 'VERY_LOW'

    def __init__(
        self,
        *,
        file: str | None = None,
        callback: Callable[[dict], None] | None = None,
        min_interval: float = 0.0,
    ) -> None:
        if file is None and callback is None:
            raise ValueError('ProgressReportHook needs a file or a callback')
        self.file = file
        self.callback = callback
        self.min_interval = min_interval
        self._last = {}

    def _emit(self, record: dict, *, force: bool = True) -> None:
        if not is_main_process():
            return
        now = time.time()
        if not force and now - self._last.get(record['stage'], 0.0) < self.min_interval:
            return
        self._last[record['stage']] = now
        record['time'] = now
        if self.callback is not None:
            self.callback(record)
        if self.file is not None:
            os.makedirs(osp.dirname(osp.abspath(self.file)), exist_ok=True)
            # one write of one line per record: a reader sees whole lines or none of a line
            with open(self.file, 'a') as f:
                f.write(json.dumps(record) + '\n')

    # training
    def before_train(self, runner) -> None:
        self._emit(dict(stage='train', event='start', iter=runner.iter, total=runner.max_iters))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        done = runner.iter + 1
        losses = {}
        for key, value in (outputs or {}).items():
            scalar = _scalar(value)
            if scalar is not None:
                losses[key] = scalar
        self._emit(
            dict(stage='train', event='iter', iter=done, total=runner.max_iters, losses=losses),
            force=done >= runner.max_iters,
        )

    def after_train(self, runner) -> None:
        self._emit(dict(stage='train', event='end', iter=runner.iter, total=runner.max_iters))

    # evaluation
    def _loop_total(self, runner, stage: str) -> int:
        loader = getattr(runner, f'{stage}_dataloader', None)
        try:
            return len(loader)
        except TypeError:
            return 0

    def before_val_epoch(self, runner) -> None:
        self._emit(dict(stage='val', event='start', iter=0, total=self._loop_total(runner, 'val')))

    def after_val_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        total = self._loop_total(runner, 'val')
        self._emit(
            dict(stage='val', event='iter', iter=batch_idx + 1, total=total),
            force=batch_idx + 1 >= total,
        )

    def after_val_epoch(self, runner, metrics: dict | None = None) -> None:
        self._emit(
            dict(
                stage='val',
                event='end',
                iter=self._loop_total(runner, 'val'),
                total=self._loop_total(runner, 'val'),
                metrics=_floats(metrics),
            )
        )

    def before_test_epoch(self, runner) -> None:
        self._emit(
            dict(stage='test', event='start', iter=0, total=self._loop_total(runner, 'test'))
        )

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        total = self._loop_total(runner, 'test')
        record = dict(stage='test', event='iter', iter=batch_idx + 1, total=total)
        if batch_idx == 0 and outputs:
            # what the model predicts (the pointing game's point source depends on it)
            record['predicts'] = [
                key for key in ('pred_heatmaps', 'pred_boxes') if outputs[0].get(key) is not None
            ]
        self._emit(record, force=batch_idx in (0, total - 1))

    def after_test_epoch(self, runner, metrics: dict | None = None) -> None:
        self._emit(
            dict(
                stage='test',
                event='end',
                iter=self._loop_total(runner, 'test'),
                total=self._loop_total(runner, 'test'),
                metrics=_floats(metrics),
            )
        )


def _floats(metrics: dict | None) -> dict:
    return {k: v for k, v in ((k, _scalar(v)) for k, v in (metrics or {}).items()) if v is not None}
