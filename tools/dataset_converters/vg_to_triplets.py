"""Write the AMC training triplets of a Visual Genome folder to one JSON file.

Example (from the repository root)::

    python tools/dataset_converters/vg_to_triplets.py data/vg --out data/vg/triplets.json
    python tools/dataset_converters/vg_to_triplets.py data/vg --out data/vg/objects.json \
        --sources objects --min-box-area-frac 0.08

``VisualGenomeTripletDataset`` reads the file with ``ann_file='triplets.json'``; reading it
is much faster than rebuilding the triplets from the raw files at every start.
"""

import argparse
import json
import os
import os.path as osp
import sys
import tempfile

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmgrounding.datasets.vg_triplets import SOURCES, TRIPLETS_FORMAT, load_vg_triplets  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('vg_dir', help='folder with image_data.json, objects.json, ...')
    parser.add_argument('--out', required=True, help='output JSON file')
    parser.add_argument('--sources', nargs='+', choices=SOURCES, default=list(SOURCES))
    parser.add_argument('--min-box-area-frac', type=float, default=0.08,
                        help='drop boxes covering less of the image (AMC: 0.08)')
    parser.add_argument('--max-attributes', type=int, default=1,
                        help='attributes per object prompt')
    parser.add_argument('--no-spatial', action='store_true', help='no spatial prompts')
    parser.add_argument('--strict', action='store_true',
                        help='raise on invalid boxes instead of skipping them')
    return parser.parse_args(argv)


def write_json_atomic(path: str, obj: object) -> None:
    """Write JSON to a temporary file next to ``path``, then rename it over ``path``."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(dir=folder, prefix='.' + osp.basename(path), suffix='.tmp')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            json.dump(obj, f, separators=(',', ':'))
            f.write('\n')
        os.replace(tmp_path, path)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise


def format_counts(counts: dict) -> str:
    """The counts printed after a conversion."""
    lines = [
        f"images: {counts['images']} with triplets, "
        f"{counts.get('images_without_triplets', 0)} without",
        'triplets: ' + ', '.join(f"{s} {counts[f'triplets_{s}']}" for s in SOURCES)
        + f" (spatial prompts {counts['spatial_prompts']})",
        f"dropped small boxes: objects {counts.get('small_object_boxes', 0)}, "
        f"regions {counts.get('small_region_boxes', 0)}",
    ]
    skipped = {k: counts[k] for k in ('invalid_boxes', 'clipped_boxes', 'unnamed_objects',
                                      'empty_region_phrases') if counts.get(k)}
    if skipped:
        lines.append('skipped/clipped: ' + ', '.join(f'{k} {v}' for k, v in skipped.items()))
    return '\n'.join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    built = load_vg_triplets(
        args.vg_dir,
        sources=tuple(dict.fromkeys(args.sources)),
        min_box_area_frac=args.min_box_area_frac,
        max_attributes=args.max_attributes,
        spatial=not args.no_spatial,
        skip_invalid_boxes=not args.strict)
    counts = dict(sorted(built['counts'].items()))
    info = dict(
        format=TRIPLETS_FORMAT,
        sources=list(dict.fromkeys(args.sources)),
        min_box_area_frac=args.min_box_area_frac,
        max_attributes=args.max_attributes,
        spatial=not args.no_spatial,
        counts=counts)
    write_json_atomic(args.out, dict(info=info, images=built['images'],
                                     triplets=built['triplets']))
    print(f'{len(built["triplets"])} triplets -> {args.out}')
    print(format_counts(counts))
    return counts


if __name__ == '__main__':
    main()
