"""Write the COCO image ids of the RefCOCO/RefCOCO+/RefCOCOg evaluation splits, one per line.

Visual Genome shares about 51k images with COCO; ``VisualGenomeTripletDataset`` keeps the VG
images whose ``coco_id`` is listed in this file out of training (``exclude_eval_images``)::

    python tools/dataset_converters/refcoco_eval_image_ids.py \\
        'data/refcoco/refs(unc).p' 'data/refcoco+/refs(unc).p' \\
        'data/refcocog/refs(umd).p' 'data/refcocog/refs(google).p' \\
        --out data/vg/refcoco_eval_coco_ids.txt

Every split except ``train`` counts as evaluation (val, testA, testB, test).
"""

import argparse
import os.path as osp
import sys
from collections import Counter

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmgrounding.datasets.refcoco import load_refs  # noqa: E402
from mmgrounding.utils.atomic import atomic_open  # noqa: E402


def eval_image_ids(
    refs_files: list[str], *, train_splits: tuple[str, ...] = ('train',)
) -> tuple[set[int], Counter]:
    """The image ids of the refs outside ``train_splits`` and the refs counted per split."""
    ids: set[int] = set()
    per_split: Counter = Counter()
    for path in refs_files:
        for ref in load_refs(path):
            per_split[f'{osp.basename(osp.dirname(path)) or path}:{ref["split"]}'] += 1
            if ref['split'] not in train_splits:
                ids.add(int(ref['image_id']))
    return ids, per_split


def main(argv=None) -> set[int]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('refs_files', nargs='+', help='refs(<split_by>).p pickles')
    parser.add_argument('--out', required=True, help='output text file')
    args = parser.parse_args(argv)
    ids, per_split = eval_image_ids(args.refs_files)
    with atomic_open(args.out, 'w') as f:
        f.write(''.join(f'{i}\n' for i in sorted(ids)))
    print(f'{len(ids)} evaluation images -> {args.out}')
    print('refs per split: ' + ', '.join(f'{k} {v}' for k, v in sorted(per_split.items())))
    return ids


if __name__ == '__main__':
    main()
