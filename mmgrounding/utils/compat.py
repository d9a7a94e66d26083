"""Checkpoint loading: weights-only unpickling by default, full unpickling only on request.

A checkpoint is a pickle, and unpickling a file can run any code it names (``os.system``).
torch >= 2.6 reads checkpoints with ``weights_only=True`` (tensors, containers and numbers
only) by default, but mmengine 0.10.7's loader for local paths (``load_from``, ``resume``,
``init_cfg=dict(type='Pretrained')``) cannot read a runner checkpoint that way: the message
hub it saves holds :class:`~mmengine.logging.HistoryBuffer` objects and numpy arrays.

:func:`register_checkpoint_loader` (run when ``mmgrounding`` is imported) replaces mmengine's
local loader with :func:`load_local_checkpoint`, which keeps ``weights_only=True`` and admits,
through :func:`torch.serialization.add_safe_globals`, exactly the globals a runner
checkpoint of this project holds (:func:`mmengine_safe_globals`). Anything else is refused
with an error naming the file and the globals. Full unpickling happens only after an
explicit opt-in: ``--trust-checkpoint`` on the tools, ``trust_checkpoint = True`` in a config
the tools run, or ``trust=True`` here.
"""

import os.path as osp
import pickle
from typing import Callable

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

TRUST_HELP = (
    'read checkpoints with full unpickling (torch.load weights_only=False). A '
    'checkpoint is a pickle: full unpickling runs any code the file carries, so use '
    'this only for files you wrote or whose authors you trust. Without it, a '
    "checkpoint is read with torch's weights-only unpickler plus the MMEngine "
    'types a runner checkpoint holds, and any other object is refused'
)

_trusted = False  # set by set_trust_checkpoints (the tools' --trust-checkpoint)


class UntrustedCheckpointError(pickle.UnpicklingError):
    """The safe loader met a global it does not admit (the message says how to opt in)."""


def set_trust_checkpoints(trust: bool) -> None:
    """Make every later checkpoint load of this process unpickle fully (``True``) or not."""
    global _trusted
    _trusted = bool(trust)


def trust_checkpoints() -> bool:
    """Whether checkpoint loads of this process currently unpickle fully."""
    return _trusted


def _history_buffer_getattr(owner: object, name: str) -> Callable:
    """``getattr`` as a runner checkpoint uses it, and nothing more.

    Pickle protocol 2 writes a function with a dotted name (``HistoryBuffer.min``, stored
    in every history buffer's ``statistics_methods``) as ``getattr(HistoryBuffer, 'min')``.
    This stand-in for ``builtins.getattr`` returns plain functions defined on an admitted
    class and refuses everything else (``getattr`` on arbitrary objects reaches
    ``__globals__``, ``__builtins__``, ...).
    """
    value = vars(owner).get(name) if isinstance(owner, type) else None
    if (
        owner not in _ADMITTED_CLASSES
        or name.startswith('_')
        or not isinstance(value, (type(_history_buffer_getattr), staticmethod))
    ):
        raise UntrustedCheckpointError(
            f'getattr({owner!r}, {name!r}) is not admitted by the safe checkpoint loader'
        )
    return getattr(owner, name)


# classes whose methods the restricted getattr may return
_ADMITTED_CLASSES = (HistoryBuffer,)


def mmengine_safe_globals() -> list:
    """The globals a runner checkpoint holds beyond tensors, containers and numbers.

    Found by listing ``torch.serialization.get_unsafe_globals_in_checkpoint`` of the
    checkpoints tools/train.py writes (tests/test_utils/test_safe_checkpoint.py keeps the
    list complete): the message hub's :class:`HistoryBuffer` (and the ``getattr`` that
    names its statistics methods), and the numpy arrays, dtypes and scalars in it. numpy
    2 pickles as ``numpy._core.*``; checkpoints written with numpy 1 name ``numpy.core.*``.
    """
    multiarray = np._core.multiarray
    dtype_classes = sorted(
        {
            type(np.dtype(t))
            for t in (
                np.bool_,
                np.int8,
                np.int16,
                np.int32,
                np.int64,
                np.uint8,
                np.uint16,
                np.uint32,
                np.uint64,
                np.float16,
                np.float32,
                np.float64,
                np.longlong,
                np.ulonglong,
            )
        },
        key=lambda c: c.__name__,
    )
    return [
        HistoryBuffer,
        (_history_buffer_getattr, 'builtins.getattr'),
        np.ndarray,
        np.dtype,
        *dtype_classes,
        multiarray._reconstruct,
        (multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
        multiarray.scalar,
        (multiarray.scalar, 'numpy.core.multiarray.scalar'),
    ]


def load_local_checkpoint(filename: str, map_location=None, *, trust: bool | None = None):
    """Load a local checkpoint; weights-only unless trusted.

    Args:
        filename: path of the checkpoint file.
        map_location: as in :func:`torch.load`.
        trust: unpickle fully (runs any code the file carries); ``None``: the process-wide
            setting of :func:`set_trust_checkpoints`.

    Returns:
        The loaded object, usually a dict with ``state_dict``, ``meta`` and, for checkpoints
        written by the runner, ``message_hub``, ``optimizer`` and ``param_schedulers``.

    Raises:
        FileNotFoundError: no such file.
        UntrustedCheckpointError: the file holds a global the safe loader does not admit;
            the message names the file and the globals.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    if trust if trust is not None else _trusted:
        return torch.load(filename, map_location=map_location, weights_only=False)
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        try:
            found = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
        except Exception:  # not a zip checkpoint: torch's own message says what it met
            found = []
        admitted = {name for name in _admitted_names()}
        refused = [name for name in found if name not in admitted]
        what = f'the globals {", ".join(refused)}' if refused else f'an object ({e})'
        raise UntrustedCheckpointError(
            f'{filename}: refused to load {what}: a checkpoint of weights, optimizer and '
            'MMEngine runner state needs none of them, and unpickling them can run code. '
            'If you trust this file (you wrote it, or it comes from its authors), pass '
            '--trust-checkpoint to tools/train.py, tools/test.py or the converter, or set '
            'trust_checkpoint = True in the config'
        ) from e


def _admitted_names() -> list[str]:
    names = []
    for item in mmengine_safe_globals():
        if isinstance(item, tuple):
            names.append(item[1])
        else:
            names.append(f'{item.__module__}.{item.__qualname__}')
    return names


def register_checkpoint_loader() -> None:
    """Make mmengine load local checkpoints (``load_from``, ``resume``) with the safe loader.

    Admits :func:`mmengine_safe_globals` process-wide and registers
    :func:`load_local_checkpoint` for local paths through mmengine's own extension point.
    URLs and other schemes keep mmengine's loaders, which call ``torch.load`` with torch's
    default (``weights_only=True`` on torch >= 2.6).
    """
    torch.serialization.add_safe_globals(mmengine_safe_globals())
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)
