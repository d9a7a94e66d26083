"""The progress records of a training and an evaluation, and how the displays read them."""

import json
from types import SimpleNamespace

import pytest
import torch

from mmgrounding.apis.progress import JsonLinesTail
from mmgrounding.engine.hooks import ProgressReportHook


def test_progress_hook_reports_iterations_losses_and_what_the_model_predicts(tmp_path):
    path = tmp_path / 'progress.jsonl'
    hook = ProgressReportHook(file=str(path), min_interval=3600.0)
    runner = SimpleNamespace(iter=4, max_iters=6, test_dataloader=[0, 1, 2])
    hook.before_train(runner)
    for i in (4, 5):  # iterations 5 and 6 of 6 (a resumed run starts at 4)
        runner.iter = i
        hook.after_train_iter(
            runner,
            i,
            outputs={
                'loss': torch.tensor(1.5 - i / 10),
                'loss_itc': torch.tensor([0.5, 0.7]),
                'note': 'not a number',
            },
        )
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, outputs=[{'pred_heatmaps': torch.zeros(1, 2, 2)}])
    hook.after_test_iter(runner, 1, outputs=[{}])
    hook.after_test_iter(runner, 2, outputs=[{}])
    hook.after_test_epoch(runner, metrics={'pointing/accuracy': 50.0})
    records = [json.loads(line) for line in path.read_text().splitlines()]
    stages = [(r['stage'], r['event'], r['iter'], r['total']) for r in records]
    # the first training iteration is throttled away (min_interval), the last always written
    assert stages == [
        ('train', 'start', 4, 6),
        ('train', 'iter', 6, 6),
        ('test', 'start', 0, 3),
        ('test', 'iter', 1, 3),
        ('test', 'iter', 3, 3),
        ('test', 'end', 3, 3),
    ]
    assert records[1]['losses'] == pytest.approx({'loss': 1.0, 'loss_itc': 0.6})
    assert records[3]['predicts'] == ['pred_heatmaps']
    assert records[5]['metrics'] == {'pointing/accuracy': 50.0}
    with pytest.raises(ValueError, match='file or a callback'):
        ProgressReportHook()


def test_tail_returns_whole_lines_only(tmp_path):
    path = tmp_path / 'p.jsonl'
    tail = JsonLinesTail(str(path))
    assert tail.read() == []  # not written yet
    path.write_text('{"a": 1}\n{"b"')
    assert tail.read() == [{'a': 1}]
    with open(path, 'a') as f:
        f.write(': 2}\n')
    assert tail.read() == [{'b': 2}]
    assert tail.read() == []
