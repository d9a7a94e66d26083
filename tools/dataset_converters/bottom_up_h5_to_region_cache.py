"""Import bottom-up attention region features (HDF5 keyed by image id) into a region cache.

    python tools/dataset_converters/bottom_up_h5_to_region_cache.py features.h5 \
        --out data/flickr30k/regions/bottom-up [--feature-dtype float16]

The HDF5 file holds one group per image, named by the image id, with the datasets
``boxes`` (K, 4) xyxy in original pixels, ``features`` (K, D), ``scores`` (K,) and
``labels`` (K,), optionally ``class_probs`` (K, C+1, background last), and the image size
as ``image_h`` / ``image_w`` attributes or datasets. Images already in the cache are
skipped, so an interrupted import resumes. See docs/proposals.md.
"""
import argparse
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmgrounding.datasets.region_cache import import_bottom_up_h5  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('h5_file', help='bottom-up features, one group per image id')
    parser.add_argument('--out', required=True, help='region cache folder')
    parser.add_argument('--feature-dtype', choices=('float32', 'float16'), default=None,
                        help='store features as (default: as in the file)')
    parser.add_argument('--verify', action='store_true', help='read every entry afterwards')
    args = parser.parse_args(argv)
    cache = import_bottom_up_h5(args.h5_file, args.out, feature_dtype=args.feature_dtype)
    print(f'{len(cache)} images in {args.out} '
          f"(features {cache.meta['extraction']['feature_dim']}-d, "
          f"{cache.meta['extraction']['feature_dtype']})")
    if args.verify:
        bad = cache.verify()
        for _, error in bad:
            print(error)
        if bad:
            raise SystemExit(f'{len(bad)} corrupt entries')


if __name__ == '__main__':
    main()
