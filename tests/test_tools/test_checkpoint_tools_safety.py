"""The command-line tools read checkpoints with the safe loader (issue 14, part 1) and the
ALBEF converter reports what it drops (issue 13, item 10)."""

import os
import subprocess
import sys
from pathlib import Path

import torch

from tests.test_utils.test_safe_loading import Payload, write_payload_checkpoint

REPO = Path(__file__).resolve().parents[2]
CONVERTER = 'tools/model_converters/albef_to_mmgrounding.py'


def run(*args, timeout=300) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_converter_refuses_a_payload(tmp_path):
    marker = tmp_path / 'ran'
    src = tmp_path / 'ALBEF.pth'
    torch.save({'model': {'temp': torch.tensor(0.07)}, 'args': Payload(marker)}, src)
    proc = run(CONVERTER, str(src), str(tmp_path / 'out.pth'))
    assert proc.returncode != 0
    assert 'ALBEF.pth: refused to load the globals posix.system' in proc.stderr
    assert not marker.exists()
    assert not (tmp_path / 'out.pth').exists()


def test_converter_drops_position_ids_and_reports_them(tmp_path):
    src = tmp_path / 'ALBEF.pth'
    official = {
        'temp': torch.tensor(0.07),
        'text_encoder.bert.embeddings.position_ids': torch.arange(8)[None],
        'text_encoder_m.bert.embeddings.position_ids': torch.arange(8)[None],
        'text_encoder.bert.embeddings.word_embeddings.weight': torch.zeros(4, 2),
        'text_encoder_m.bert.encoder.layer.6.output.dense.bias': torch.zeros(2),
        'text_encoder_m.bert.encoder.layer.7.output.dense.bias': torch.zeros(2),
    }
    # an official checkpoint: tensors, a config dict and numbers only; loads without trust
    torch.save({'model': official, 'config': {'queue_size': 8}, 'epoch': 29}, src)
    dst = tmp_path / 'out.pth'
    proc = run(CONVERTER, str(src), str(dst))
    assert proc.returncode == 0, proc.stderr[-3000:]
    converted = torch.load(dst, weights_only=True)['state_dict']
    assert sorted(converted) == ['temp', 'text_encoder.bert.embeddings.word_embeddings.weight']
    assert 'dropped 4 official keys' in proc.stdout
    lines = proc.stdout.splitlines()
    assert '  text_encoder.bert.embeddings.position_ids' in lines
    assert '  text_encoder_m.bert.embeddings.position_ids' in lines
    assert '  text_encoder_m.bert.encoder.layer.*.output.dense.bias  (x2)' in lines


def test_test_tool_refuses_a_payload(tmp_path, synthground_root):
    marker = tmp_path / 'ran'
    checkpoint = write_payload_checkpoint(tmp_path, marker)
    proc = run(
        'tools/test.py',
        'configs/baselines/centre_synthground_flickr30k.py',
        str(checkpoint),
        '--work-dir',
        str(tmp_path / 'work'),
        '--cfg-options',
        f'test_dataloader.dataset.data_root={synthground_root}',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
    )
    assert proc.returncode != 0
    assert 'model.pth: refused to load the globals posix.system' in proc.stderr
    assert not marker.exists()


def test_train_tool_refuses_a_payload_to_resume(tmp_path, synthground_root):
    from mmgrounding.datasets.synthground.vocab import collect_texts, train_vocab

    vocab = str(tmp_path / 'vocab.txt')
    train_vocab(collect_texts(synthground_root), vocab)
    marker = tmp_path / 'ran'
    checkpoint = write_payload_checkpoint(tmp_path, marker)
    proc = run(
        'tools/train.py',
        'configs/amc/amc_albef-tiny_1xb32-6e_synthground.py',
        '--work-dir',
        str(tmp_path / 'work'),
        '--resume',
        str(checkpoint),
        '--cfg-options',
        f'train_dataloader.dataset.data_root={synthground_root}',
        f'val_dataloader.dataset.data_root={synthground_root}',
        f'model.tokenizer.vocab_file={vocab}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
    )
    assert proc.returncode != 0
    assert 'model.pth: refused to load the globals posix.system' in proc.stderr
    assert not marker.exists()
