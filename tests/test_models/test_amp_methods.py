"""``tools/train.py --amp`` on a CPU trains every method: one step of each tiny model.

The step is the runner's: ``model.train_step(batch, optim_wrapper)`` with the
``CPUAmpOptimWrapper`` that ``--amp`` chooses without a GPU (the forward pass and the losses
under ``torch.autocast('cpu', torch.bfloat16)``, float32 parameters, gradients and AdamW).
Each test checks that the forward pass really ran in bfloat16 (a linear layer's output), that
every logged loss is finite, that the parameters stayed float32 and that the step moved them.
"""

import pytest
import torch
from torch import nn

from mmgrounding.registry import MODELS, OPTIM_WRAPPERS

from .albef_tiny import tiny_albef_cfg
from .albef_tiny import write_vocab as write_albef_vocab
from .camwsvg_tiny import tiny_batch as camwsvg_batch
from .camwsvg_tiny import tiny_camwsvg_cfg
from .camwsvg_tiny import write_vocab as write_camwsvg_vocab
from .ckd_tiny import tiny_ckd_cfg
from .reir_tiny import tiny_reir_cfg
from .test_albef import samples as albef_samples
from .test_ckd import PHRASES as CKD_PHRASES
from .test_ckd import make_samples as ckd_samples
from .test_infoground_grounder import make_samples as infoground_samples
from .test_infoground_grounder import tiny_infoground_cfg
from .test_infoground_grounder import write_vocab as write_infoground_vocab
from .test_reir import make_samples as reir_samples
from .test_selfeq import selfeq_cfg, with_paraphrases


def amp_step(model: nn.Module, batch: dict) -> dict:
    """One ``train_step`` under the ``--amp`` CPU wrapper; returns the logged losses."""
    wrapper = OPTIM_WRAPPERS.build(
        dict(
            type='CPUAmpOptimWrapper',
            optimizer=torch.optim.AdamW(
                [p for p in model.parameters() if p.requires_grad], lr=1e-3
            ),
        )
    )
    linear_dtypes = set()
    handles = [
        module.register_forward_hook(lambda mod, args, out: linear_dtypes.add(out.dtype))
        for module in model.modules()
        if isinstance(module, nn.Linear)
    ]
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    try:
        log_vars = model.train_step(batch, wrapper)
    finally:
        for handle in handles:
            handle.remove()
    assert torch.bfloat16 in linear_dtypes, 'the forward pass did not run under autocast'
    losses = {k: v for k, v in log_vars.items() if k.startswith('loss')}
    assert losses, log_vars
    for name, value in losses.items():
        assert torch.isfinite(torch.as_tensor(value, dtype=torch.float32)), (name, value)
    moved = [
        n for n, p in model.named_parameters() if n in before and not torch.equal(p, before[n])
    ]
    assert moved, 'the step changed no parameter'
    assert all(p.dtype == torch.float32 for p in model.parameters())
    return losses


@pytest.mark.parametrize('method', ['amc', 'galbef'])
def test_albef_and_amc(tmp_path, method):
    torch.manual_seed(0)
    amc = dict(type='AMCLoss') if method == 'amc' else None
    model = MODELS.build(tiny_albef_cfg(write_albef_vocab(tmp_path / 'vocab.txt'), amc_loss=amc))
    losses = amp_step(model, dict(inputs=torch.randn(4, 3, 32, 32), data_samples=albef_samples()))
    assert ('loss_amc' in losses) == (method == 'amc')
    assert model.image_queue.dtype == torch.float32 and int(model.queue_ptr) == 4


def test_selfeq(tmp_path):
    torch.manual_seed(0)
    model = MODELS.build(selfeq_cfg(write_albef_vocab(tmp_path / 'vocab.txt')))
    batch = dict(inputs=torch.randn(4, 3, 32, 32), data_samples=with_paraphrases(albef_samples()))
    losses = amp_step(model, batch)
    assert {'loss_sim', 'loss_cst'} <= set(losses), losses


def test_camwsvg(tmp_path):
    torch.manual_seed(0)
    model = MODELS.build(tiny_camwsvg_cfg(write_camwsvg_vocab(tmp_path / 'vocab.txt')))
    images, samples = camwsvg_batch()
    amp_step(model, dict(inputs=images, data_samples=samples))


def test_ckd(tmp_path):
    torch.manual_seed(0)
    vocab = tmp_path / 'vocab.txt'
    vocab.write_text('[PAD]\n[UNK]\na\nred\nblue\ncircle\nsquare\nshape\nthe\nbig\n')
    model = MODELS.build(tiny_ckd_cfg(str(vocab)))
    amp_step(model, dict(inputs=None, data_samples=ckd_samples(CKD_PHRASES)))


def test_reir(tmp_path):
    torch.manual_seed(0)
    vocab = tmp_path / 'vocab.txt'
    vocab.write_text(
        '[PAD]\n[UNK]\na\nred\nblue\ncircle\nsquare\nabove\nstar\ngreen\nheart\nto\nthe\nleft\nof\n'
    )
    model = MODELS.build(tiny_reir_cfg(str(vocab)))
    amp_step(model, dict(inputs=None, data_samples=reir_samples()))


def test_infoground(tmp_path):
    torch.manual_seed(0)
    model = MODELS.build(tiny_infoground_cfg(write_infoground_vocab(tmp_path / 'vocab.txt')))
    amp_step(model, dict(inputs=None, data_samples=infoground_samples()))
