"""Stop a training whose loss became NaN or inf, before anything saves that state."""

import math

import torch
from mmengine.dist import all_reduce, get_dist_info
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmgrounding.registry import HOOKS


class NonFiniteLossError(FloatingPointError):
    """A loss term or a weight is NaN or inf (the message says which, where and on what)."""


def describe_samples(data_batch, *, max_samples: int = 16) -> str:
    """The ids of the batch's samples, from their metainfo: ``img_id`` and ``caption_id``
    (or ``img_path`` when a sample has no ``img_id``)."""
    samples = data_batch.get('data_samples') if isinstance(data_batch, dict) else None
    if not samples:
        return 'no data samples in the batch'
    ids = []
    for sample in samples[:max_samples]:
        meta = sample.metainfo if hasattr(sample, 'metainfo') else {}
        parts = [
            f'img_id={meta["img_id"]}' if 'img_id' in meta else f'img_path={meta.get("img_path")}'
        ]
        if meta.get('caption_id') is not None:
            parts.append(f'caption_id={meta["caption_id"]}')
        ids.append(' '.join(parts))
    more = f' and {len(samples) - max_samples} more' if len(samples) > max_samples else ''
    return '; '.join(ids) + more


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """After every training iteration, stop with :class:`NonFiniteLossError` when a loss is
    NaN or inf, naming the iteration, the loss terms and the batch's sample ids.

    It runs before every other ``after_train_iter`` hook, so neither the logger nor the
    :class:`~mmengine.hooks.CheckpointHook` sees the iteration: the last checkpoint on disk
    is the last good one. In a distributed run every rank learns that some rank's loss is
    not finite (one all-reduce of a flag per iteration) and stops too, each naming its own
    batch. Independently, every checkpoint the runner is about to write is refused when a
    weight is not finite (a finite loss can still produce inf gradients).

    Args:
        interval: check every ``interval`` iterations (the checkpoint check always runs).
    """

    priority = 'HIGHEST'

    def __init__(self, *, interval: int = 1) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.interval = interval

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if not self.every_n_train_iters(runner, self.interval):
            return
        bad = {
            key: float(value)
            for key, value in (outputs or {}).items()
            if 'loss' in key and not math.isfinite(float(value))
        }
        rank, world_size = get_dist_info()
        bad_ranks = [rank] if bad else []
        if world_size > 1:
            flags = torch.zeros(world_size, dtype=torch.int64)
            flags[rank] = int(bool(bad))
            all_reduce(flags)
            bad_ranks = flags.nonzero().flatten().tolist()
        if not bad_ranks:
            return
        where = f'iteration {runner.iter + 1} (0-based {runner.iter}), epoch {runner.epoch}'
        if bad:
            terms = ', '.join(f'{key}={value}' for key, value in bad.items())
            message = f'non-finite loss at {where}: {terms}; batch: {describe_samples(data_batch)}'
        else:
            message = (
                f'non-finite loss at {where} on rank(s) {bad_ranks} (rank {rank} '
                'finite); see their error for the terms and the batch'
            )
        if world_size > 1:
            message = f'rank {rank}: {message}'
        raise NonFiniteLossError(
            f'{message}. Training stopped; no checkpoint was written from this state '
            '(resume from the last one).'
        )

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        for name, param in model.named_parameters():
            if param.is_floating_point() and not torch.isfinite(param).all():
                raise NonFiniteLossError(
                    f'refusing to write the checkpoint of iteration {runner.iter}: the '
                    f'weight {name} is not finite; the last checkpoint on disk is the last '
                    'good one'
                )
