"""Convert an official ALBEF checkpoint for ``ALBEFGrounder``.

    python tools/model_converters/albef_to_mmgrounding.py ALBEF.pth albef_mmg.pth \\
        [--text-layers 6] [--img-size 256 --patch-size 16]

Then set ``load_from = 'albef_mmg.pth'`` (or ``init_cfg``) in the config. Loading logs the
missing and unexpected keys; the converter prints the official keys it dropped.

The source is read with the safe checkpoint loader (torch's weights-only unpickler): an
official ``ALBEF.pth`` holds tensors, dicts and numbers only, and a file that holds anything
else is refused unless ``--trust-checkpoint`` is given.
"""

import argparse
import os.path as osp
import re
from collections import Counter

import torch

from mmgrounding.models.converters import convert_albef_state_dict
from mmgrounding.utils import load_local_checkpoint
from mmgrounding.utils.atomic import atomic_open
from mmgrounding.utils.compat import TRUST_HELP


def summarize_keys(keys: list[str]) -> list[str]:
    """One line per key pattern (layer indices as ``*``) with its count, sorted."""
    counts = Counter(re.sub(r'\.\d+\.', '.*.', key) for key in keys)
    return [f'{pattern}{f"  (x{n})" if n > 1 else ""}' for pattern, n in sorted(counts.items())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='official ALBEF.pth / ALBEF_4M.pth')
    parser.add_argument('dst', help='converted checkpoint')
    parser.add_argument(
        '--text-layers',
        type=int,
        default=6,
        help='BERT layers of the text encoder; the rest are fusion layers',
    )
    parser.add_argument(
        '--img-size',
        type=int,
        default=None,
        help='training resolution; interpolates the position embeddings',
    )
    parser.add_argument('--patch-size', type=int, default=16)
    parser.add_argument('--trust-checkpoint', action='store_true', help=TRUST_HELP)
    args = parser.parse_args()

    checkpoint = load_local_checkpoint(args.src, map_location='cpu', trust=args.trust_checkpoint)
    state_dict = checkpoint.get('model', checkpoint.get('state_dict', checkpoint))
    grid = None
    if args.img_size is not None:
        grid = (args.img_size // args.patch_size, args.img_size // args.patch_size)
    converted, dropped = convert_albef_state_dict(
        state_dict, text_layers=args.text_layers, grid_hw=grid
    )
    with atomic_open(args.dst, 'wb') as f:
        torch.save({'state_dict': converted, 'meta': {'converted_from': osp.basename(args.src)}}, f)
    print(
        f'{len(converted)} tensors written to {args.dst}; dropped {len(dropped)} official '
        'keys that have no place in mmgrounding:'
    )
    for line in summarize_keys(dropped):
        print(f'  {line}')


if __name__ == '__main__':
    main()
