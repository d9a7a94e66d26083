"""run_lstm: float32 where oneDNN has no LSTM of the autocast dtype, as is where it has one."""

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from mmgrounding.utils import cpu_features
from mmgrounding.utils.cpu_features import cpu_lstm_supports, run_lstm


def lstm_and_inputs():
    torch.manual_seed(0)
    return nn.LSTM(6, 5, batch_first=True), torch.randn(3, 4, 6)


@pytest.mark.parametrize('packed', [False, True])
def test_without_support_the_lstm_runs_in_float32_under_autocast(monkeypatch, packed):
    monkeypatch.setattr(cpu_features, 'cpu_lstm_supports', lambda dtype: False)
    lstm, x = lstm_and_inputs()
    inputs = pack_padded_sequence(x, torch.tensor([4, 2, 3]), batch_first=True,
                                  enforce_sorted=False) if packed else x
    expected, _ = lstm(inputs)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        got, _ = run_lstm(lstm, inputs.to(torch.bfloat16) if not packed else inputs)
        after = nn.functional.linear(x, torch.ones(2, 6))  # autocast is on again afterwards
    got, expected = (t.data if packed else t for t in (got, expected))
    assert got.dtype == torch.float32 and after.dtype == torch.bfloat16
    if packed:
        torch.testing.assert_close(got, expected)  # the same float32 inputs and weights
    else:  # the inputs were rounded to bfloat16 before the call
        torch.testing.assert_close(got, lstm(x.to(torch.bfloat16).float())[0])


def test_with_support_or_without_autocast_the_lstm_is_called_as_is(monkeypatch):
    calls = []
    lstm, x = lstm_and_inputs()
    monkeypatch.setattr(cpu_features, 'cpu_lstm_supports', lambda dtype: calls.append(dtype))
    out, _ = run_lstm(lstm, x)  # no autocast: not even asked
    torch.testing.assert_close(out, lstm(x)[0])
    assert calls == []
    if cpu_lstm_supports(torch.bfloat16):  # the autocast path runs only where oneDNN has it
        monkeypatch.setattr(cpu_features, 'cpu_lstm_supports', lambda dtype: True)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            assert run_lstm(lstm, x)[0].dtype == torch.bfloat16


def test_support_follows_the_instruction_sets(monkeypatch):
    monkeypatch.setattr(torch.cpu, '_is_avx512_supported', lambda: False)
    monkeypatch.setattr(torch.cpu, '_is_amx_fp16_supported', lambda: True)
    assert not cpu_lstm_supports(torch.bfloat16)
    assert cpu_lstm_supports(torch.float16) and cpu_lstm_supports(torch.float32)
    monkeypatch.setattr(torch.cpu, '_is_avx512_supported', lambda: True)
    assert cpu_lstm_supports(torch.bfloat16)
