"""sha256 digests of files, for the settings that caches compare when they resume."""
import hashlib
from typing import Iterable


def files_sha256(paths: Iterable[str]) -> str:
    """sha256 of the bytes of ``paths`` read one after the other (in the given order)."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, 'rb') as f:
            for block in iter(lambda: f.read(1 << 20), b''):  # noqa: B023
                digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str) -> str:
    """sha256 of a file's bytes."""
    return files_sha256([path])
