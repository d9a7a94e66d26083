"""The ALBEF-base paper configs train with torch's fused Adam/AdamW (issue 14)."""

import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from torch import nn
from torch.optim.optimizer import _get_fused_kernels_supported_devices

import mmgrounding.engine  # noqa: F401  (registers the optim wrappers)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PAPER_CONFIGS = [
    'configs/amc/albef_vg.py',  # AMC
    'configs/amc/galbef_vg.py',  # gALBEF
    'configs/selfeq/selfeq_albef-base_8xb56-30e_vg-coco.py',  # SelfEQ
]


@pytest.mark.parametrize('config', PAPER_CONFIGS)
def test_paper_config_builds_a_fused_optimizer_that_steps_on_cpu(config):
    cfg = Config.fromfile(osp.join(ROOT, config))
    assert cfg.optim_wrapper.optimizer.fused is True
    # torch ships the fused kernel for both the CPU and CUDA
    assert {'cpu', 'cuda'} <= set(_get_fused_kernels_supported_devices())

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 2))
    reference = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 2))
    reference.load_state_dict(model.state_dict())
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper.to_dict())
    unfused_cfg = dict(cfg.optim_wrapper.optimizer.to_dict(), fused=False)
    unfused = build_optim_wrapper(
        reference, dict(cfg.optim_wrapper.to_dict(), optimizer=unfused_cfg)
    )
    assert wrapper.optimizer.defaults['fused'] is True
    start = [p.detach().clone() for p in model.parameters()]
    x = torch.randn(32, 8)
    for _ in range(3):
        wrapper.update_params(model(x).pow(2).mean())
        unfused.update_params(reference(x).pow(2).mean())
    # the step moved the weights, as the per-parameter loop moves them
    assert not all(torch.equal(a, b) for a, b in zip(start, model.parameters()))
    for fused_p, loop_p in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(fused_p, loop_p, atol=1e-6, rtol=1e-5)
