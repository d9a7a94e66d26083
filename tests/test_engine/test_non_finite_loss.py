"""A NaN or inf loss stops the run, names the iteration, the term and the batch, and leaves
the last good checkpoint as the last one on disk (issue 14, part 2)."""

import math
from types import SimpleNamespace

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

from mmgrounding.engine.hooks import NonFiniteLossError, NonFiniteLossHook
from mmgrounding.structures import GroundingDataSample

BAD_SAMPLE = 13  # its input is NaN: the batch of iteration 13 // 4 + 1 = 4 holds it


class Points(Dataset):
    """y = 2x + 1; sample BAD_SAMPLE has x = NaN."""

    def __len__(self):
        return 32

    def __getitem__(self, i):
        sample = GroundingDataSample()
        sample.set_metainfo(dict(img_id=f'img{i}', caption_id=100 + i))
        x = torch.tensor([math.nan if i == BAD_SAMPLE else i / 32])
        return dict(inputs=x, data_samples=sample)


class Line(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs)
        pred = self.linear(x)
        return dict(
            loss_fit=((pred - (2 * x + 1)) ** 2).mean(),
            loss_decay=1e-3 * self.linear.weight.square().sum(),
        )


def test_nan_loss_stops_with_iteration_term_and_ids(tmp_path):
    runner = Runner(
        model=Line(),
        work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=Points(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=4,
            num_workers=0,
            collate_fn=dict(type='pseudo_collate'),
        ),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=False, max_iters=8),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2)),
        custom_hooks=[NonFiniteLossHook()],
        randomness=dict(seed=0),
        default_scope='mmengine',
    )
    with pytest.raises(NonFiniteLossError) as error:
        runner.train()
    message = str(error.value)
    assert 'non-finite loss at iteration 4 (0-based 3)' in message
    assert 'loss_fit=nan' in message and 'loss_decay' not in message
    assert 'img_id=img12 caption_id=112; img_id=img13 caption_id=113' in message
    # the checkpoint of iteration 4 was never written; iteration 2's is intact and finite
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['iter_2.pth']
    state = torch.load(tmp_path / 'iter_2.pth', weights_only=True)['state_dict']
    assert all(torch.isfinite(v).all() for v in state.values())
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_2.pth')


def test_a_checkpoint_of_non_finite_weights_is_refused():
    model = nn.Linear(2, 1)
    runner = SimpleNamespace(model=model, iter=5)
    NonFiniteLossHook().before_save_checkpoint(runner, {})  # finite: saved
    with torch.no_grad():
        model.bias.fill_(math.inf)
    with pytest.raises(NonFiniteLossError, match='iteration 5: the weight bias is not finite'):
        NonFiniteLossHook().before_save_checkpoint(runner, {})
