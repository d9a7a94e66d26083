"""Resume a killed training as the run that was never interrupted (bitwise, on CPU)."""

import random
from collections.abc import Callable, Iterator

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import CheckpointHook, Hook
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop

from mmgrounding.registry import HOOKS

# checkpoint key of the saved generator states
RNG_KEY = 'rng_states'


def get_rng_state() -> dict:
    """This process's python, numpy, torch (and CUDA) generator states, as tensors and numbers
    only (a checkpoint holding them loads with ``weights_only=True``)."""
    np_state = np.random.get_state(legacy=False)
    state = dict(
        python=random.getstate(),
        numpy=dict(
            key=torch.from_numpy(np_state['state']['key'].astype(np.int64)),
            pos=int(np_state['state']['pos']),
            has_gauss=int(np_state['has_gauss']),
            gauss=float(np_state['gauss']),
        ),
        torch=torch.get_rng_state(),
    )
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict) -> None:
    """Restore a state of :func:`get_rng_state`."""
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    numpy = state['numpy']
    np.random.set_state(
        (
            'MT19937',
            numpy['key'].numpy().astype(np.uint32),
            numpy['pos'],
            numpy['has_gauss'],
            numpy['gauss'],
        )
    )
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state['cuda'])


class _RestoreBeforeFetch:
    """The IterBasedTrainLoop's dataloader iterator that, after the ``skip`` batches the loop
    advances on resume, restores the generators and hands the loop back the plain iterator."""

    def __init__(self, loop: IterBasedTrainLoop, skip: int, restore: Callable[[], None]):
        self._loop, self._inner, self._left, self._restore = (
            loop,
            loop.dataloader_iterator,
            skip,
            restore,
        )

    def __iter__(self):
        return self

    def __next__(self):
        if self._left == 0:
            self._restore()
            self._loop.dataloader_iterator = self._inner
        self._left -= 1
        return next(self._inner)


class _ResumedEpochLoader:
    """The EpochBasedTrainLoop's dataloader for the resumed epoch: skips the batches the
    checkpoint's iteration already trained (loading them, so the workers' random streams
    advance as they did), restores the generators, and gives the loop back the plain loader
    when the epoch ends. Every attribute is the wrapped loader's."""

    def __init__(self, loop: EpochBasedTrainLoop, skip: int, restore: Callable[[], None]):
        self._loop, self._loader, self._skip, self._restore = (loop, loop.dataloader, skip, restore)

    def __len__(self) -> int:
        return len(self._loader)

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def __iter__(self) -> Iterator:
        self._loop.dataloader = self._loader  # the next epoch iterates the plain loader
        if self._skip == 0:
            self._restore()  # before iter(): the loader draws its base seed from torch's stream
        batches = iter(self._loader)
        if self._skip:
            for _ in range(self._skip):
                next(batches)
            self._restore()
        yield from batches


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Save every rank's random generator states with each checkpoint and restore them on
    ``--resume`` at the point of the data stream where the checkpoint was taken.

    MMEngine 0.10.7 restores the weights, optimizer, schedulers, message hub, and (for
    ``IterBasedTrainLoop``) the sampler position, but not the random streams: a resumed
    run redraws dropout masks, ALBEF's hard negatives and MLM masks and the augmentations
    of the main process from the config's seed, and an ``EpochBasedTrainLoop`` resumed from
    a mid-epoch checkpoint starts the epoch over. This hook:

    - captures python / numpy / torch / CUDA generator states right before the
      :class:`~mmengine.hooks.CheckpointHook` saves (gathered from every rank; MMEngine
      writes the checkpoint on rank 0 only) into ``checkpoint['rng_states']``;
    - on resume, gives each rank its own states back just before the first batch after the
      checkpoint is fetched (after the dataloader was advanced past the trained batches,
      which for an ``EpochBasedTrainLoop`` this hook does itself);
    - runs validation inside a fork of the generators, so that whether and when a run
      validates does not change its training stream (a resumed run does not repeat the
      validation that followed its checkpoint).

    Not restorable: the generators inside persistent dataloader workers of an
    ``EpochBasedTrainLoop`` resumed at epoch > 0 (a warning says so); iteration-based
    loops replay the workers' streams exactly.
    """

    # after ParamSchedulerHook (LOW = 70), before CheckpointHook (VERY_LOW = 90)
    priority = 80

    def __init__(self) -> None:
        self._captured: tuple[int, list[dict]] | None = None  # (runner.iter, per-rank states)
        self._pending: dict | None = None  # this rank's states to restore on resume
        self._val_state: dict | None = None  # this rank's state before the validation
        self._val_states: list[dict] = []  # every rank's
        self._in_val = False

    # ------------------------------------------------------------------ capture
    def _capture(self, runner) -> None:
        _, world_size = get_dist_info()
        state = get_rng_state()
        states = all_gather_object(state) if world_size > 1 else [state]
        self._captured = (runner.iter, states)

    def _checkpoint_due(self, runner, *, epoch_end: bool) -> bool:
        """Whether a CheckpointHook saves in this ``after_train_iter`` / ``_epoch``."""
        for hook in runner.hooks:
            if not isinstance(hook, CheckpointHook) or hook.by_epoch != epoch_end:
                continue
            if epoch_end:
                due = hook.every_n_epochs(runner, hook.interval, hook.save_begin) or (
                    hook.save_last and hook.is_last_train_epoch(runner)
                )
            else:
                due = hook.every_n_train_iters(runner, hook.interval, hook.save_begin) or (
                    hook.save_last and hook.is_last_train_iter(runner)
                )
            if due:
                return True
        return False

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if get_dist_info()[1] > 1 and self._checkpoint_due(runner, epoch_end=False):
            self._capture(runner)

    def after_train_epoch(self, runner) -> None:
        if get_dist_info()[1] > 1 and self._checkpoint_due(runner, epoch_end=True):
            self._capture(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        world_size = get_dist_info()[1]
        if self._in_val:  # a best checkpoint: the training stream is the one before val
            states = self._val_states
        elif self._captured is not None and self._captured[0] == runner.iter:
            states = self._captured[1]
        elif world_size == 1:
            states = [get_rng_state()]
        else:
            runner.logger.warning(
                f'{type(self).__name__}: a checkpoint is saved where no CheckpointHook was '
                "due; it holds rank 0's random state only, so resuming it is not exact"
            )
            states = [get_rng_state()]
        checkpoint[RNG_KEY] = dict(world_size=world_size, states=states)

    # ------------------------------------------------------------------ restore
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not getattr(runner, '_resume', False):
            return  # load_from (fine-tuning): a new run, with its own random streams
        saved = checkpoint.get(RNG_KEY)
        rank, world_size = get_dist_info()
        if saved is None:
            runner.logger.warning(
                'the checkpoint holds no random generator states (written without '
                f'{type(self).__name__}): the resumed run draws new random numbers'
            )
        elif saved['world_size'] != world_size or len(saved['states']) != world_size:
            runner.logger.warning(
                f'the checkpoint holds the random states of {len(saved["states"])} of '
                f'{saved["world_size"]} processes, this run has {world_size}: the resumed run '
                'draws new random numbers'
            )
        else:
            self._pending = saved['states'][rank]

    def before_train(self, runner) -> None:
        if self._pending is None:
            return
        pending, loop = self._pending, runner.train_loop
        self._pending = None

        def restore() -> None:
            set_rng_state(pending)

        if isinstance(loop, IterBasedTrainLoop):
            # the loop advances its iterator by runner.iter batches, then fetches
            loop.dataloader_iterator = _RestoreBeforeFetch(loop, runner.iter, restore)
        elif isinstance(loop, EpochBasedTrainLoop):
            skip = runner.iter - runner.epoch * len(loop.dataloader)
            if not 0 <= skip < len(loop.dataloader):
                raise RuntimeError(
                    f'resumed at iteration {runner.iter}, epoch {runner.epoch}, '
                    f'with {len(loop.dataloader)} iterations per epoch: the '
                    'checkpoint is not from this dataset and batch size'
                )
            if runner.epoch > 0 and getattr(loop.dataloader, 'persistent_workers', False):
                runner.logger.warning(
                    'resuming an EpochBasedTrainLoop with persistent dataloader workers: the '
                    "workers' random streams (augmentations) start afresh, not where the "
                    'interrupted run had them; use persistent_workers=False or an '
                    'IterBasedTrainLoop for an exact resume'
                )
            loop.dataloader = _ResumedEpochLoader(loop, skip, restore)
        else:
            runner.logger.warning(
                f'{type(self).__name__} does not know the loop '
                f'{type(loop).__name__}; random states restored at its start'
            )
            restore()

    # ------------------------------------------------------------------ validation
    def before_val(self, runner) -> None:
        self._in_val = True
        self._val_state = get_rng_state()
        _, world_size = get_dist_info()
        # a best checkpoint is saved from inside the validation
        self._val_states = (
            all_gather_object(self._val_state) if world_size > 1 else [self._val_state]
        )

    def after_val(self, runner) -> None:
        if self._val_state is not None:
            set_rng_state(self._val_state)
        self._in_val = False
        self._val_state = None
