"""What this CPU runs in hardware under ``torch.autocast('cpu', ...)``, and an LSTM call that
falls back to float32 where oneDNN cannot build the autocast dtype's LSTM.

``torch.cpu`` reports the instruction sets. bfloat16 matrix products run on AVX-512 BF16 or
AMX tiles (elsewhere oneDNN emulates them, far slower than float32); float16 ones on AMX-FP16.
oneDNN's bfloat16 LSTM needs AVX-512 at least: on an AVX2-only CPU (an AMD EPYC of the Zen 3
generation, for one) ``nn.LSTM`` under bfloat16 autocast raises "could not create a primitive
descriptor for the LSTM forward propagation primitive".
"""

import torch
from torch import nn


def cpu_has_matrix_units(dtype: str = 'bfloat16') -> bool:
    """Whether this CPU runs ``dtype`` matrix products in hardware: AVX-512 BF16 or AMX tiles
    for bfloat16, AMX-FP16 for float16."""
    if dtype == 'bfloat16':
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return torch.cpu._is_amx_fp16_supported()


def cpu_lstm_supports(dtype: torch.dtype) -> bool:
    """Whether oneDNN builds an LSTM of ``dtype`` on this CPU (bfloat16: AVX-512; float16:
    AMX-FP16)."""
    if dtype == torch.bfloat16:
        return torch.cpu._is_avx512_supported()
    if dtype == torch.float16:
        return torch.cpu._is_amx_fp16_supported()
    return True


def run_lstm(lstm: nn.LSTM, inputs, *args):
    """``lstm(inputs, *args)``; under CPU autocast to a dtype this CPU's oneDNN has no LSTM of
    (:func:`cpu_lstm_supports`), the LSTM runs in float32 with autocast off instead (its
    outputs are then float32; everything around it stays in the autocast dtype). ``inputs``: a
    tensor or a ``PackedSequence``."""
    data = inputs.data if isinstance(inputs, nn.utils.rnn.PackedSequence) else inputs
    if data.device.type == 'cpu' and torch.is_autocast_enabled('cpu'):
        if not cpu_lstm_supports(torch.get_autocast_dtype('cpu')):
            with torch.autocast('cpu', enabled=False):
                return lstm(inputs.float(), *args)
    return lstm(inputs, *args)
