"""CPUAmpOptimWrapper: bfloat16 forward passes, float32 parameters and updates."""
import copy

import pytest
import torch
from torch import nn

from mmgrounding.registry import OPTIM_WRAPPERS


def build(model, **kwargs):
    return OPTIM_WRAPPERS.build(dict(type='CPUAmpOptimWrapper',
                                     optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                                     **kwargs))


def test_forward_in_bfloat16_parameters_and_gradients_in_float32():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    reference = copy.deepcopy(model)  # the same step in float32
    wrapper = build(model)
    x = torch.randn(5, 4)
    with wrapper.optim_context(model):
        out = model(x)
        loss = out.float().pow(2).mean()
    assert out.dtype == torch.bfloat16
    wrapper.update_params(loss)
    assert model.weight.dtype == torch.float32 and model.weight.grad is None  # zeroed
    reference(x).pow(2).mean().backward()
    with torch.no_grad():
        expected = reference.weight - 0.1 * reference.weight.grad
        start = reference.weight.clone()
    # the float32 SGD step of the bfloat16 forward's gradient: close to the float32 step
    assert torch.allclose(model.weight.detach(), expected, atol=1e-2)
    assert not torch.allclose(model.weight.detach(), start)
    # outside the context, float32 again
    assert model(x).dtype == torch.float32


def test_float16_and_bad_dtype():
    model = nn.Linear(4, 3)
    wrapper = build(model, dtype='float16')
    with wrapper.optim_context(model):
        assert model(torch.randn(2, 4)).dtype == torch.float16
    with pytest.raises(ValueError, match='bfloat16'):
        build(model, dtype='float64')


def test_train_tool_chooses_it_without_a_gpu(monkeypatch):
    import importlib.util
    import os.path as osp
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    spec = importlib.util.spec_from_file_location('train_tool', osp.join(root, 'tools',
                                                                         'train.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    config = osp.join(root, 'configs', 'ckd', 'ckd-nce_lstm_1xb32-600it_synthground.py')
    monkeypatch.setattr('sys.argv', ['train.py', config, '--amp', '--work-dir', '/tmp/x'])
    cfg = tool.build_config(tool.parse_args())
    assert cfg.optim_wrapper.type == 'CPUAmpOptimWrapper'
    assert 'loss_scale' not in cfg.optim_wrapper


@pytest.mark.parametrize('avx512_bf16, amx, warned', [
    (False, False, True), (True, False, False), (False, True, False)])
def test_a_cpu_without_bfloat16_matrix_units_is_warned_about(
        monkeypatch, log_messages, avx512_bf16, amx, warned):
    monkeypatch.setattr(torch.cpu, '_is_avx512_bf16_supported', lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, '_is_amx_tile_supported', lambda: amx)
    build(nn.Linear(4, 3))
    warnings = [m for m in log_messages if 'no bfloat16 matrix units' in m]
    assert len(warnings) == int(warned)
    if warned:
        assert 'train without --amp' in warnings[0]


def test_float16_checks_amx_fp16(monkeypatch, log_messages):
    monkeypatch.setattr(torch.cpu, '_is_amx_fp16_supported', lambda: False)
    build(nn.Linear(4, 3), dtype='float16')
    assert any('no float16 matrix units' in m for m in log_messages)


@pytest.mark.parametrize(
    'cuda, wrapper', [(False, 'CPUAmpOptimWrapper'), (True, 'AmpOptimWrapper')]
)
def test_use_amp_training_picks_the_wrapper_of_the_device(monkeypatch, cuda, wrapper):
    from mmengine.config import Config

    from mmgrounding.engine.optim_wrapper import (
        autocast_dtype,
        use_amp_testing,
        use_amp_training,
    )

    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper', loss_scale=512.0,
                                         optimizer=dict(type='AdamW', lr=1e-4))))
    use_amp_training(cfg)
    assert cfg.optim_wrapper.type == wrapper
    assert cfg.optim_wrapper.get('loss_scale') == ('dynamic' if cuda else None)
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=1e-4)
    use_amp_testing(cfg)
    assert cfg.test_cfg.fp16 is True
    assert autocast_dtype() == ('float16' if cuda else 'bfloat16')
