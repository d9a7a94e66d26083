"""Convert an official ALBEF checkpoint for ``ALBEFGrounder``.

    python tools/model_converters/albef_to_mmgrounding.py ALBEF.pth albef_mmg.pth \\
        [--text-layers 6] [--img-size 256 --patch-size 16]

Then set ``load_from = 'albef_mmg.pth'`` (or ``init_cfg``) in the config. Loading logs the
missing and unexpected keys; the converter prints the official keys it dropped.
"""
import argparse
import os
import os.path as osp
import tempfile

import torch

from mmgrounding.models.converters import convert_albef_state_dict
from mmgrounding.utils import load_local_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='official ALBEF.pth / ALBEF_4M.pth')
    parser.add_argument('dst', help='converted checkpoint')
    parser.add_argument('--text-layers', type=int, default=6,
                        help='BERT layers of the text encoder; the rest are fusion layers')
    parser.add_argument('--img-size', type=int, default=None,
                        help='training resolution; interpolates the position embeddings')
    parser.add_argument('--patch-size', type=int, default=16)
    args = parser.parse_args()

    checkpoint = load_local_checkpoint(args.src, map_location='cpu')
    state_dict = checkpoint.get('model', checkpoint.get('state_dict', checkpoint))
    grid = None
    if args.img_size is not None:
        grid = (args.img_size // args.patch_size, args.img_size // args.patch_size)
    converted, dropped = convert_albef_state_dict(
        state_dict, text_layers=args.text_layers, grid_hw=grid)
    out_dir = osp.dirname(osp.abspath(args.dst))
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=out_dir, suffix='.tmp', delete=False) as tmp:
        torch.save({'state_dict': converted, 'meta': {'converted_from': osp.basename(args.src)}},
                   tmp.name)
    os.replace(tmp.name, args.dst)
    print(f'{len(converted)} tensors written to {args.dst}; dropped {len(dropped)} official '
          f'keys: {sorted(dropped)[:10]}{" ..." if len(dropped) > 10 else ""}')


if __name__ == '__main__':
    main()
