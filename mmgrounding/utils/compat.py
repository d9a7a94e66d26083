"""Compatibility of the pinned OpenMMLab stack with recent torch, without patching packages.

torch >= 2.6 loads checkpoints with ``weights_only=True`` by default. mmengine 0.10.7's local
checkpoint loader calls ``torch.load`` without the argument, so resuming a checkpoint that
holds the message hub (numpy arrays, ``HistoryBuffer``) fails. mmengine lets a project register
its own loader for a path prefix; :func:`register_checkpoint_loader` replaces the loader of
local paths with one that keeps mmengine's behaviour from before torch 2.6.

Only load checkpoints you trust: unpickling arbitrary files can run code, as it always could
with mmengine on older torch.
"""
import inspect
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader

_TORCH_LOAD_HAS_WEIGHTS_ONLY = 'weights_only' in inspect.signature(torch.load).parameters


def load_local_checkpoint(filename: str, map_location=None) -> dict:
    """Load a trusted local checkpoint with full unpickling (mmengine's pre-2.6 behaviour).

    Args:
        filename: path of the checkpoint file.
        map_location: as in :func:`torch.load`.

    Returns:
        The loaded object, usually a dict with ``state_dict``, ``meta`` and, for checkpoints
        written by the runner, ``message_hub``, ``optimizer`` and ``param_schedulers``.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    kwargs = {'weights_only': False} if _TORCH_LOAD_HAS_WEIGHTS_ONLY else {}
    return torch.load(filename, map_location=map_location, **kwargs)


def register_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints (``load_from``, ``resume``) on torch >= 2.6."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
