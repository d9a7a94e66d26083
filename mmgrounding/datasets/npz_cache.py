"""What the on-disk caches of numpy entries share: a folder with settings and one file an entry.

Layout::

    <cache>/
      meta.json                 # format, the settings, anything else recorded (counts, ...)
      <ENTRY_DIR>/<id>.npz      # one entry per id (numpy .npz, uncompressed)

``meta.json`` holds the settings (:attr:`NpzCache.SETTINGS_KEYS`), which must be equal for a
run to resume into the folder. Entries are written to a temporary file and renamed into
place, so an entry that exists is complete and an interrupted run resumes by skipping the
ids that have one. Reading an array checks its zip CRC-32; a missing, truncated or corrupt
entry raises the cache's error naming the file and the id. Nothing is kept in memory between
reads, so entries can be read from any number of dataloader workers.

Subclasses (:class:`~mmgrounding.datasets.RegionCache`,
:class:`~mmgrounding.datasets.WordFeatureCache`) set the class attributes and hold what their
entries contain: the fields, their checks, ``write`` and ``read``.
"""
import json
import os
import os.path as osp
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import ClassVar, TypeVar
from urllib.parse import quote, unquote

import numpy as np

from mmgrounding.utils.atomic import atomic_open, atomic_write_json, remove_stale_temporaries

_Cache = TypeVar('_Cache', bound='NpzCache')


def entry_name(entry_id: str) -> str:
    """The file name of an entry; ids are percent-encoded (``a/b`` -> ``a%2Fb``)."""
    entry_id = str(entry_id)
    if not entry_id:
        raise ValueError('an entry id must not be empty')
    return quote(entry_id, safe='') + '.npz'


class NpzCache:
    """A folder of ``.npz`` entries with a ``meta.json`` (see the module docstring).

    Args:
        root: the cache folder.

    Raises:
        error: the folder has no ``meta.json``, a malformed one or one of another format.
    """

    #: ``meta['format']``, the layout's name and version
    FORMAT: ClassVar[str]
    #: the meta keys that must agree when a run resumes into an existing cache
    SETTINGS_KEYS: ClassVar[tuple[str, ...]]
    #: the folder of the entries, below the root
    ENTRY_DIR: ClassVar[str]
    #: what an id names, in messages (``'image'``: "... (image 42)")
    ENTRY_KIND: ClassVar[str]
    #: the cache's name in messages (``'region cache'``)
    NAME: ClassVar[str]
    #: the tool that writes a cache, in messages
    WRITER: ClassVar[str]
    #: why an entry is missing, and what rewrites a bad one, in messages
    MISSING_HINT: ClassVar[str]
    REWRITE_HINT: ClassVar[str]
    #: raised for a missing, corrupt or inconsistent entry or meta.json
    error: ClassVar[type[ValueError]]

    def __init__(self, root: str) -> None:
        self.root = root
        self.meta_path = osp.join(root, 'meta.json')
        self.entries_dir = osp.join(root, self.ENTRY_DIR)
        if not osp.isfile(self.meta_path):
            raise self.error(f'{self.meta_path}: no {self.NAME} here (meta.json is missing; '
                             f'write one with {self.WRITER})')
        try:
            with open(self.meta_path, encoding='utf-8') as f:
                self.meta = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise self.error(f'{self.meta_path}: malformed or truncated ({e})') from e
        if self.meta.get('format') != self.FORMAT:
            raise self.error(f"{self.meta_path}: format {self.meta.get('format')!r}, "
                             f'expected {self.FORMAT!r}')

    # ------------------------------------------------------------------ creation
    @classmethod
    def create(cls: type[_Cache], root: str, meta: dict, *, resume: bool = True) -> _Cache:
        """Open ``root`` for writing, creating it with ``meta`` when it has no cache yet.

        Args:
            root: the cache folder.
            meta: the settings and anything else to record; ``format`` is added.
            resume: when ``root`` already holds a cache, keep its entries if its settings
                equal ``meta``'s (else raise); with False an existing cache raises.

        Raises:
            error: the existing cache was written with other settings (the message lists
                the differences), or it exists and ``resume`` is False.
        """
        meta = dict(meta, format=cls.FORMAT)
        meta_path = osp.join(root, 'meta.json')
        if osp.isfile(meta_path):
            cache = cls(root)
            if not resume:
                raise cls.error(f'{meta_path}: a {cls.NAME} exists already')
            differences = _differences({k: cache.meta.get(k) for k in cls.SETTINGS_KEYS},
                                       {k: _jsonable(meta.get(k)) for k in cls.SETTINGS_KEYS})
            if differences:
                raise cls.error(
                    f'{meta_path}: the cache was written with other settings; use another '
                    'output folder or delete this one. Differences (cache vs now): '
                    + '; '.join(differences))
            return cache
        os.makedirs(osp.join(root, cls.ENTRY_DIR), exist_ok=True)
        atomic_write_json(meta_path, _jsonable(meta), indent=2)
        return cls(root)

    def update_meta(self, **fields) -> None:
        """Add or replace top-level metadata fields (not the settings), atomically."""
        clash = set(fields) & set(self.SETTINGS_KEYS)
        if clash:
            raise ValueError(f'the settings {sorted(clash)} cannot change')
        self.meta.update(_jsonable(fields))
        atomic_write_json(self.meta_path, self.meta, indent=2)

    # ------------------------------------------------------------------ entries
    def entry_path(self, entry_id: object) -> str:
        """``<ENTRY_DIR>/<id>.npz``, the id percent-encoded."""
        return osp.join(self.entries_dir, entry_name(str(entry_id)))

    def __contains__(self, entry_id: object) -> bool:
        return osp.isfile(self.entry_path(entry_id))

    def _entry_ids(self) -> list[str]:
        """The ids of all entries, sorted as strings (unfinished writes excluded)."""
        if not osp.isdir(self.entries_dir):
            return []
        return sorted(unquote(n[:-4]) for n in os.listdir(self.entries_dir)
                      if n.endswith('.npz') and not n.startswith('.'))

    def __len__(self) -> int:
        return len(self._entry_ids())

    def _where(self, entry_id: str, *, writing: bool = False) -> str:
        """The entry's file and id, for messages: ``<path> (image 42[, being written])``."""
        note = ', being written' if writing else ''
        return f'{self.entry_path(entry_id)} ({self.ENTRY_KIND} {entry_id}{note})'

    def _save(self, entry_id: str, arrays: Mapping[str, np.ndarray]) -> str:
        """Write an entry's (checked) arrays atomically; returns its path."""
        path = self.entry_path(entry_id)
        with atomic_open(path, 'wb') as f:
            np.savez(f, **arrays)
        return path

    @contextmanager
    def _open_entry(self, entry_id: str) -> Iterator[np.lib.npyio.NpzFile]:
        """Open an entry for reading its arrays (each read checks the array's CRC-32).

        Raises:
            error: the entry is missing, or it is truncated or corrupt (also when this
                shows while the body reads it). The message names the file and the id.
        """
        path, where = self.entry_path(entry_id), self._where(entry_id)
        if not osp.isfile(path):
            raise self.error(f'{where}: no entry ({self.MISSING_HINT})')
        try:
            with np.load(path, allow_pickle=False) as npz:
                yield npz
        except self.error:
            raise
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as e:
            raise self.error(f'{where}: corrupt or truncated entry ({e}); delete it and '
                             f'{self.REWRITE_HINT}') from e

    def _verify(self, entry_ids: Iterable[object] | None,
                read: Callable[[object], object]) -> list[tuple[str, str]]:
        """``read`` every entry (or ``entry_ids``); returns ``(id, error)`` of the bad."""
        bad = []
        for entry_id in (self._entry_ids() if entry_ids is None else entry_ids):
            try:
                read(entry_id)
            except self.error as e:
                bad.append((str(entry_id), str(e)))
        return bad

    def remove_stale_temporaries(self) -> list[str]:
        """Delete the temporary files of writes that were killed (no writer may be running)."""
        return remove_stale_temporaries(self.entries_dir)


def _jsonable(obj: object) -> object:
    """``obj`` as it reads back from JSON (tuples become lists), for comparisons."""
    return json.loads(json.dumps(obj))


def _differences(old: object, new: object, prefix: str = '') -> list[str]:
    """The leaves where two JSON-like values differ, as ``'a.b: old vs new'``."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new)):
            out += _differences(old.get(key), new.get(key), f'{prefix}{key}.')
        return out
    return [] if old == new else [f'{prefix[:-1]}: {old!r} vs {new!r}']
