"""What the format writers share: the split names and deterministic file output (UTF-8, ``\\n``
line ends, JSON in the key order of the object), and the image counts of ``meta.json``."""

from __future__ import annotations

import json
import os
import os.path as osp
from collections import Counter
from typing import Dict, Optional, Sequence

from .record import ImageRecord

SPLITS = ('train', 'val', 'test')
REFCOCO_SPLITS = ('train', 'val', 'testA', 'testB')


def write_text(path: str, text: str) -> None:
    """Write UTF-8 text with ``\\n`` line ends, creating the folder."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(text.encode('utf-8'))


def write_json(path: str, obj: object, *, indent: Optional[int] = None) -> None:
    """Write JSON in the key order of ``obj`` (compact unless ``indent``)."""
    separators = (',', ': ') if indent else (',', ':')
    write_text(path, json.dumps(obj, indent=indent, separators=separators) + '\n')


def count_images(records: Sequence[ImageRecord]) -> Dict[str, int]:
    """Images per split and per RefCOCO split, plus the total."""
    counts = Counter(r.split for r in records)
    refcoco = Counter(r.refcoco_split for r in records)
    result = {split: counts[split] for split in SPLITS}
    result.update({f'refcoco_{s}': refcoco[s] for s in REFCOCO_SPLITS})
    result['total'] = len(records)
    result['objects'] = sum(len(r.scene.objects) for r in records)
    return result
