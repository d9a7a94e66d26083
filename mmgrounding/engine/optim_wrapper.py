"""Mixed-precision training on a CPU, which MMEngine's ``AmpOptimWrapper`` refuses."""
import logging
from contextlib import contextmanager

import torch
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper

from mmgrounding.registry import OPTIM_WRAPPERS
from mmgrounding.utils.cpu_features import cpu_has_matrix_units


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """An OptimWrapper whose forward pass runs under ``torch.autocast('cpu', dtype)``.

    MMEngine 0.10.7's ``AmpOptimWrapper`` asserts a CUDA, NPU or MLU device; this is its CPU
    counterpart, which ``tools/train.py --amp`` chooses when no GPU is found. The model's
    forward pass and loss (everything inside ``optim_context``, i.e. ``model.train_step``)
    run in ``dtype`` where autocast allows it (matrix products, convolutions); parameters,
    gradients and the optimizer state stay float32. bfloat16 has float32's exponent range,
    so no loss scaling is needed. Worth it on CPUs with bfloat16 matrix units (AVX-512 BF16,
    AMX): InfoGround's training step at paper sizes runs 2.0x faster on this project's
    machine (``benchmarks/infoground_step.py``). Without them (an AVX2-only CPU) the products
    run emulated, far slower than in float32: the wrapper then logs a warning, see
    :func:`mmgrounding.utils.cpu_features.cpu_has_matrix_units`.

    Args:
        dtype: ``'bfloat16'`` (default) or ``'float16'``.
        **kwargs: passed to :class:`mmengine.optim.OptimWrapper` (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).
    """

    def __init__(self, *, dtype: str = 'bfloat16', **kwargs) -> None:
        if dtype not in ('bfloat16', 'float16'):
            raise ValueError(f"dtype must be 'bfloat16' or 'float16', got {dtype!r}")
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype)
        if not cpu_has_matrix_units(dtype):
            print_log(
                f'CPUAmpOptimWrapper: this CPU has no {dtype} matrix units (AVX-512 BF16 / '
                f'AMX for bfloat16, AMX-FP16 for float16), so {dtype} autocast runs emulated '
                'and a step is slower than in float32; train without --amp here',
                logger='current',
                level=logging.WARNING,
            )

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield


def use_amp_training(cfg) -> None:
    """Set ``cfg`` to train with mixed precision on the device it will run on.

    On a GPU MMEngine's ``AmpOptimWrapper`` (float16, dynamic loss scaling); without one
    :class:`CPUAmpOptimWrapper` (bfloat16, no loss scaling), since MMEngine's wrapper refuses
    a CPU. What ``tools/train.py --amp`` and a leaderboard recipe with ``amp=True`` do.
    """
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    else:
        cfg.optim_wrapper.type = 'CPUAmpOptimWrapper'
        cfg.optim_wrapper.pop('loss_scale', None)


def use_amp_testing(cfg) -> None:
    """Set ``cfg`` to test under autocast: MMEngine's test loop with ``fp16=True`` (float16 on
    a GPU, bfloat16 on a CPU). What ``tools/test.py --amp`` does."""
    cfg.test_cfg = cfg.get('test_cfg') or {}
    cfg.test_cfg.fp16 = True


def autocast_dtype() -> str:
    """The dtype MMEngine's ``autocast`` runs a test loop with ``fp16=True`` in, here."""
    return 'float16' if torch.cuda.is_available() else 'bfloat16'
