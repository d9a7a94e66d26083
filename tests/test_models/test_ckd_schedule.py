"""The λ staircase λ = min(⌊step / a⌋, b) and the hook that sets it."""
from types import SimpleNamespace

import pytest
from mmengine.logging import MessageHub

from mmgrounding.engine.hooks import staircase_weight
from mmgrounding.registry import HOOKS


@pytest.mark.parametrize('step,expected', [(0, 0.0), (199, 0.0), (200, 1.0), (399, 1.0),
                                           (400, 2.0), (599, 2.0), (600, 3.0), (10_000, 3.0)])
def test_staircase_paper_values(step, expected):
    # a = 200, b = 3 (the paper's setting without Visual Genome features)
    assert staircase_weight(step, step_size=200, max_weight=3) == expected


def test_staircase_vg_features():
    # b = 1: off for the first 200 steps, then on for good
    assert [staircase_weight(s, step_size=200, max_weight=1)
            for s in (0, 150, 200, 5000)] == [0.0, 0.0, 1.0, 1.0]


def test_staircase_rejects_a_zero_step():
    with pytest.raises(ValueError):
        staircase_weight(3, step_size=0, max_weight=1)


def test_hook_sets_the_model_attribute():
    hook = HOOKS.build(dict(type='LossWeightStaircaseHook', step_size=2, max_weight=3))
    model = SimpleNamespace(distill_weight=-1.0)
    hub = MessageHub.get_instance('test_ckd_schedule')
    seen = []
    for it in range(9):
        runner = SimpleNamespace(model=model, iter=it, message_hub=hub)
        hook.before_train_iter(runner, batch_idx=it)
        seen.append(model.distill_weight)
    assert seen == [0, 0, 1, 1, 2, 2, 3, 3, 3]
    assert hub.get_scalar('train/distill_weight').current() == 3.0


def test_hook_names_a_missing_attribute():
    hook = HOOKS.build(dict(type='LossWeightStaircaseHook', attribute='lam'))
    runner = SimpleNamespace(model=SimpleNamespace(), iter=0,
                             message_hub=MessageHub.get_instance('test_ckd_schedule2'))
    with pytest.raises(AttributeError, match='lam'):
        hook.before_train_iter(runner, batch_idx=0)
