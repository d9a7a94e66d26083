"""Resume through mmengine 0.10.7 on torch >= 2.6 works with the weights-only loader."""

import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

from mmgrounding.utils import load_local_checkpoint
from mmgrounding.utils.compat import _admitted_names


class PairDataset(Dataset):
    """y = 2x + 1 on 16 points."""

    def __len__(self):
        return 16

    def __getitem__(self, i):
        x = torch.tensor([i / 16.0])
        return dict(inputs=x, targets=2 * x + 1)


class LinearModel(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        pred = self.linear(torch.stack(inputs) if isinstance(inputs, list) else inputs)
        if mode == 'loss':
            targets = torch.stack(targets) if isinstance(targets, list) else targets
            return dict(loss=((pred - targets) ** 2).mean())
        return pred


def make_runner(work_dir, max_epochs, resume=False):
    return Runner(
        model=LinearModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=PairDataset(),
            sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=4,
            num_workers=0,
            collate_fn=dict(type='default_collate'),
        ),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        resume=resume,
        randomness=dict(seed=0),
        default_scope='mmengine',
    )


def test_resume_restores_epoch_weights_and_optimizer(tmp_path):
    runner = make_runner(tmp_path, max_epochs=2)
    runner.train()
    weights = runner.model.linear.weight.detach().clone()
    ckpt = tmp_path / 'epoch_2.pth'
    # importing mmgrounding admitted the runner's types: torch's own weights-only load works
    assert torch.load(ckpt, weights_only=True)['meta']['epoch'] == 2
    # every global of a runner checkpoint is one the safe loader admits, no more is needed
    admitted = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    try:
        found = set(torch.serialization.get_unsafe_globals_in_checkpoint(str(ckpt)))
    finally:
        torch.serialization.add_safe_globals(admitted)
    assert found and found <= set(_admitted_names())
    state = load_local_checkpoint(str(ckpt))  # weights_only=True (no trust)
    assert state['meta']['epoch'] == 2 and 'message_hub' in state

    resumed = make_runner(tmp_path, max_epochs=3, resume=True)
    resumed.load_or_resume()
    assert resumed.epoch == 2 and resumed.iter == 8  # 2 epochs x 16 / 4
    assert torch.equal(resumed.model.linear.weight, weights)
    resumed.train()
    assert resumed.epoch == 3
