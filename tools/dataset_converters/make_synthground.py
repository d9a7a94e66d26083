"""Generate SynthGround, the procedural grounding benchmark, in every supported format.

Example (from the repository root)::

    python tools/dataset_converters/make_synthground.py --out data/synthground --seed 0
    python tools/dataset_converters/make_synthground.py --out data/synthground_v1 --preset v1

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
    parser.add_argument(
        '--preset',
        default='v2',
        help="option set: 'v2' (the default: pictograms under a WordNet hierarchy, context "
        "scenes, parts, a ReferIt split) or 'v1' (the 9-shape build of generator 1.0.0); "
        'other options override it',
    )
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
    parser.add_argument('--min-objects', type=int, default=None)
    parser.add_argument('--max-objects', type=int, default=None)
    parser.add_argument('--min-captions', type=int, default=None)
    parser.add_argument('--max-captions', type=int, default=None)
    parser.add_argument(
        '--min-visible',
        type=float,
        default=None,
        help='smallest uncovered fraction of every object box (default 0.6)',
    )
    parser.add_argument(
        '--split-fractions',
        type=float,
        nargs=3,
        default=None,
        metavar=('TRAIN', 'VAL', 'TEST'),
        help='image fractions (default 0.8 0.07 0.13)',
    )
    v2 = parser.add_argument_group("v2 preset options (default: the preset's values)")
    v2.add_argument('--objects', choices=('shapes', 'pictograms'), default=None)
    v2.add_argument('--context-image-prob', type=float, default=None)
    v2.add_argument('--identical-look-prob', type=float, default=None)
    v2.add_argument('--part-prob', type=float, default=None)
    v2.add_argument('--relational-first-prob', type=float, default=None)
    v2.add_argument('--referit-num-images', type=int, default=None)
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


def format_v2_summary(counts: dict) -> str:
    """Context-dependent shares and parts of a v2 build, per split."""
    lines = ['v2: split  context-dependent / all (share)  large objects with a part']
    for name, c in counts['v2'].items():
        total = c.get('refs', c.get('single_object_phrases', 0))
        context = c.get('context_refs', c.get('context_phrases', 0))
        share = f'{100.0 * context / total:.1f} %' if total else '-'
        part = f'  parts {c.get("parts", 0)} / {c["large_objects"]}' if 'large_objects' in c else ''
        firsts = [
            f'{k[len("context_refs_first_") :]} {v}'
            for k, v in c.items()
            if k.startswith('context_refs_first_')
        ]
        first = f'  first by: {", ".join(firsts)}' if firsts else ''
        lines.append(f'  {name}: {context} / {total} ({share}){part}{first}')
    if 'referit' in counts:
        r = counts['referit']
        lines.append(
            'referit: '
            + ', '.join(f'{s} {r["images"][s]} images {r[s]["refs"]} refs' for s in r['images'])
        )
    return '\n'.join(lines)


def main(argv=None) -> None:
    args = parse_args(argv)
    synthground = import_synthground()
    start = time.perf_counter()
    counts = synthground.build_synthground(
        args.out,
        preset=args.preset,
        seed=args.seed,
        num_images=args.num_images,
        image_sizes_wh=tuple(args.image_sizes) if args.image_sizes else None,
        min_objects=args.min_objects,
        max_objects=args.max_objects,
        min_captions=args.min_captions,
        max_captions=args.max_captions,
        min_visible=args.min_visible,
        split_fractions=tuple(args.split_fractions) if args.split_fractions else None,
        objects=args.objects,
        context_image_prob=args.context_image_prob,
        identical_look_prob=args.identical_look_prob,
        part_prob=args.part_prob,
        relational_first_prob=args.relational_first_prob,
        referit_num_images=args.referit_num_images,
    )
    seconds = time.perf_counter() - start
    print(
        f'SynthGround {args.preset} seed={args.seed}: {counts["images"]["total"]} images in '
        f'{args.out} ({seconds:.1f} s)'
    )
    print(format_summary(counts))
    if 'v2' in counts:
        print(format_v2_summary(counts))


if __name__ == '__main__':
    main()
