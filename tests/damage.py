"""Damage a cache entry on disk, for the tests that check it is reported by name."""


def flip_byte(path: str, data: bytes) -> None:
    """Flip one bit inside ``data`` (an array's bytes) where it is stored in ``path``."""
    with open(path, 'rb') as f:
        content = bytearray(f.read())
    offset = content.index(data) + len(data) // 2
    content[offset] ^= 0x01
    with open(path, 'wb') as f:
        f.write(content)
