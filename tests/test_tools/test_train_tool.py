"""tools/train.py trains the small SynthGround ALBEF+AMC config and resumes it."""

import os
import re
import subprocess
import sys

import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = 'configs/amc/amc_albef-tiny_1xb32-6e_synthground.py'


def test_train_then_resume(synthground_root, tmp_path):
    from mmgrounding.datasets.synthground.vocab import collect_texts, train_vocab

    vocab = str(tmp_path / 'vocab.txt')
    train_vocab(collect_texts(synthground_root), vocab)
    work_dir = tmp_path / 'work'
    options = [
        f'train_dataloader.dataset.data_root={synthground_root}',
        f'val_dataloader.dataset.data_root={synthground_root}',
        f'test_dataloader.dataset.data_root={synthground_root}',
        f'model.tokenizer.vocab_file={vocab}',
        "train_dataloader.dataset.sources=['objects']",
        'train_dataloader.dataset.spatial=False',
        'train_dataloader.batch_size=8',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'train_cfg.val_interval=1',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.checkpoint.max_keep_ckpts=2',
    ]

    def train(max_epochs, *extra):
        cmd = [
            sys.executable,
            'tools/train.py',
            CONFIG,
            '--work-dir',
            str(work_dir),
            *extra,
            '--cfg-options',
            f'train_cfg.max_epochs={max_epochs}',
            *options,
        ]
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
        return proc.stdout + proc.stderr

    train(1)
    assert (work_dir / 'epoch_1.pth').is_file()
    log = train(2, '--resume')
    assert 'resumed epoch: 1' in log
    first, second = (
        torch.load(work_dir / f'epoch_{e}.pth', map_location='cpu', weights_only=False)
        for e in (1, 2)
    )
    # the resumed run continued the first: iteration counter, optimizer and scheduler state
    per_epoch = first['meta']['iter']
    assert per_epoch > 0 and second['meta']['iter'] == 2 * per_epoch
    assert second['meta']['epoch'] == 2
    steps = {int(v['step']) for v in second['optimizer']['state'].values()}
    assert steps == {2 * per_epoch}, steps  # AdamW's step count went on from the first run
    assert {int(v['step']) for v in first['optimizer']['state'].values()} == {per_epoch}
    # the warm-up steps per iteration, the cosine per epoch
    assert [s['last_step'] for s in second['param_schedulers']] == [2 * per_epoch, 2]
    # and it trained: the weights moved in the second epoch
    name = 'fusion.layers.0.crossattention.self.query.weight'
    assert not torch.equal(first['state_dict'][name], second['state_dict'][name])
    # the logged validation accuracy of epoch 2 is a number in the log
    accuracy = re.findall(r'Epoch\(val\) \[2\].*pointing/accuracy: ([\d.]+)', log)
    assert len(accuracy) == 1
