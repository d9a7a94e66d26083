"""Generate SynthGround, the procedural grounding benchmark, in every supported format.

Example (from the repository root)::

    python tools/dataset_converters/make_synthground.py --out data/synthground --seed 0

The same arguments give byte-identical files. See ``docs/synthground.md``.
"""

import argparse
import importlib
import importlib.util
import os.path as osp
import sys
import time

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)


def import_synthground():
    """``mmgrounding.datasets.synthground``, or the subpackage alone if its parents fail.

    The generator needs only numpy and Pillow; the parent packages import mmdet and mmcv.
    Loading the subpackage alone lets the data be generated before those are installed.
    """
    try:
        return importlib.import_module('mmgrounding.datasets.synthground')
    except ImportError as error:
        package_dir = osp.join(REPO_ROOT, 'mmgrounding', 'datasets', 'synthground')
        print(f'note: importing mmgrounding failed ({error}); loading {package_dir} alone')
        spec = importlib.util.spec_from_file_location(
            'synthground',
            osp.join(package_dir, '__init__.py'),
            submodule_search_locations=[package_dir],
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules['synthground'] = module
        spec.loader.exec_module(module)
        return module


def parse_size(text: str) -> tuple:
    """``'160x120'`` -> (160, 120)."""
    try:
        width, height = (int(v) for v in text.lower().split('x'))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f'expected WxH like 160x120, got {text!r}') from error
    return width, height


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/synthground', help='output folder')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-images', type=int, default=1500)
    parser.add_argument(
        '--image-sizes',
        type=parse_size,
        nargs='+',
        default=None,
        metavar='WxH',
        help='image size choices (default: 160x120 128x128 120x160 192x144 144x192)',
    )
    parser.add_argument('--min-objects', type=int, default=2)
    parser.add_argument('--max-objects', type=int, default=6)
    parser.add_argument('--min-captions', type=int, default=3)
    parser.add_argument('--max-captions', type=int, default=5)
    parser.add_argument(
        '--min-visible',
        type=float,
        default=0.6,
        help='smallest uncovered fraction of every object box',
    )
    parser.add_argument(
        '--split-fractions',
        type=float,
        nargs=3,
        default=(0.8, 0.07, 0.13),
        metavar=('TRAIN', 'VAL', 'TEST'),
    )
    return parser.parse_args(argv)


def format_summary(counts: dict) -> str:
    """A small table of the counts returned by ``build_synthground``."""
    images, flickr, refcoco = counts['images'], counts['flickr30k_entities'], counts['refcoco']
    rows = [('split', 'images', 'captions', 'phrases', 'boxes', 'refs', 'ref sents')]
    for split in ('train', 'val', 'test'):
        f = flickr[split]
        ref_splits = ('testA', 'testB') if split == 'test' else (split,)
        rows.append(
            (
                split,
                images[split],
                f['captions'],
                f['box_phrases'] + f['scene_phrases'] + f['notvisual_phrases'],
                f['boxes'],
                sum(refcoco[s]['refs'] for s in ref_splits),
                sum(refcoco[s]['sentences'] for s in ref_splits),
            )
        )
    for split in ('testA', 'testB'):
        rows.append(
            (
                f'  {split}',
                images[f'refcoco_{split}'],
                '',
                '',
                '',
                refcoco[split]['refs'],
                refcoco[split]['sentences'],
            )
        )
    widths = [max(len(str(row[k])) for row in rows) for k in range(len(rows[0]))]
    lines = [
        '  '.join(
            str(v).rjust(w) if k else str(v).ljust(w) for k, (v, w) in enumerate(zip(row, widths))
        )
        for row in rows
    ]
    vg = counts['vg']
    lines.append(
        f'vg: {vg["objects"]} objects, {vg["regions"]} regions, {vg["relationships"]} relationships'
    )
    return '\n'.join(lines)


def main(argv=None) -> None:
    args = parse_args(argv)
    synthground = import_synthground()
    kwargs = {}
    if args.image_sizes:
        kwargs['image_sizes_wh'] = tuple(args.image_sizes)
    start = time.perf_counter()
    counts = synthground.build_synthground(
        args.out,
        seed=args.seed,
        num_images=args.num_images,
        min_objects=args.min_objects,
        max_objects=args.max_objects,
        min_captions=args.min_captions,
        max_captions=args.max_captions,
        min_visible=args.min_visible,
        split_fractions=tuple(args.split_fractions),
        **kwargs,
    )
    seconds = time.perf_counter() - start
    print(
        f'SynthGround seed={args.seed}: {counts["images"]["total"]} images in {args.out} '
        f'({seconds:.1f} s)'
    )
    print(format_summary(counts))


if __name__ == '__main__':
    main()
