"""Atomic file writes: readers see the old file or the whole new one, never a partial one."""
import json
import os
import os.path as osp
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

# Temporary files start with this prefix, so a folder can be cleaned of the leftovers of
# writes that were killed (see :func:`remove_stale_temporaries`).
TMP_PREFIX = '.tmp-'


@contextmanager
def atomic_open(path: str, mode: str = 'wb', *, fsync: bool = True) -> Iterator[IO]:
    """Open a temporary file next to ``path``; on success rename it over ``path``.

    The rename is atomic on POSIX file systems. If the body raises, the temporary file is
    removed and ``path`` is untouched; if the process is killed, a ``.tmp-*`` file is left
    in the folder, which :func:`remove_stale_temporaries` deletes.

    Args:
        path: the final file.
        mode: ``'wb'`` or ``'w'`` (text, UTF-8).
        fsync: flush the data to disk before the rename, so that a crash of the machine
            cannot leave a renamed but empty file.
    """
    if mode not in ('w', 'wb'):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(dir=folder, prefix=TMP_PREFIX + osp.basename(path) + '.')
    try:
        with os.fdopen(fd, mode, **({} if 'b' in mode else {'encoding': 'utf-8'})) as f:
            yield f
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise


def atomic_write_json(path: str, obj: object, *, indent: int | None = None) -> None:
    """Write ``obj`` as JSON to ``path`` atomically."""
    with atomic_open(path, 'w') as f:
        json.dump(obj, f, indent=indent, separators=None if indent else (',', ':'))
        f.write('\n')


def remove_stale_temporaries(folder: str) -> list[str]:
    """Delete the ``.tmp-*`` files that killed writes left in ``folder``; return their names.

    Only call it when no other process is writing into ``folder``.
    """
    if not osp.isdir(folder):
        return []
    stale = sorted(n for n in os.listdir(folder) if n.startswith(TMP_PREFIX))
    for name in stale:
        os.remove(osp.join(folder, name))
    return stale
