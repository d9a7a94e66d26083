"""Import MAttNet's detections (``dets.json``) into a region cache, for AMC's Table 3.

AMC ranks the detections of MAttNet's Mask R-CNN (``lichengunc/MAttNet``
``tools/run_detect.py``: ``cache/detections/refcoco+_unc/res101_coco_minus_refer_notime_
dets.json``) by Grad-CAM mass and reports the accuracy of the top box on RefCOCO+. Two
layouts are read:

- MAttNet's: a list of ``{det_id, image_id, category_id, category_name, box, score}`` with
  ``box`` = ``[x1, y1, x2 - x1 + 1, y2 - y1 + 1]``;
- the AMC code's: ``{image_id: [[x, y, w, h, (score, ...)], ...]}``.

Boxes are ``[x, y, w, h]`` pixels, as COCO's, and become continuous
``[x, y, x + w, y + h]`` (the AMC evaluation sums the map over ``[y, y + h) x [x, x + w)``).
Each image's detections are stored best first (by score, in file order without one); labels
are 0-based in the order of the sorted category ids, whose names go to ``meta.json``. The
cache holds no features (``feature_dim`` 0): ALBEF reads only the boxes. Image sizes come
from ``--instances`` (a COCO ``instances.json``) when given::

    python tools/dataset_converters/mattnet_dets_to_region_cache.py \\
        data/refcoco+/mattnet/res101_coco_minus_refer_notime_dets.json \\
        --instances data/refcoco+/instances.json --out data/refcoco+/regions/mattnet/
"""

import argparse
import os.path as osp
import sys
from collections import defaultdict

import numpy as np

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmgrounding.datasets.region_cache import RegionCache  # noqa: E402
from mmgrounding.datasets.utils import GroundingAnnotationError, load_json_file  # noqa: E402


def read_dets(path: str) -> tuple[dict[str, list[dict]], list[str]]:
    """``{image id: [dict(box_xyxy, score, category_id)]}`` and the class names by label.

    Raises:
        GroundingAnnotationError: a record without a box of four numbers (file and record).
    """
    data = load_json_file(path, what='detections file')
    per_image: dict[str, list[dict]] = defaultdict(list)
    names: dict[int, str] = {}
    if isinstance(data, dict):  # the AMC code's {image_id: [[x, y, w, h, ...], ...]}
        records = [
            (img_id, dict(box=det[:4], score=det[4] if len(det) > 4 else None))
            for img_id, dets in data.items()
            for det in dets
        ]
    elif isinstance(data, list):
        records = [(rec.get('image_id'), rec) for rec in data]
    else:
        raise GroundingAnnotationError(
            f'{path}: expected a list of detections or a dict of '
            f'image id -> boxes, got {type(data).__name__}'
        )
    for index, (img_id, rec) in enumerate(records):
        box = rec.get('box') if isinstance(rec, dict) else None
        try:
            x, y, w, h = (float(v) for v in box)
        except (TypeError, ValueError) as e:
            raise GroundingAnnotationError(
                f'{path}: record #{index} (image {img_id}) has no [x, y, w, h] box'
            ) from e
        if img_id is None:
            raise GroundingAnnotationError(f'{path}: record #{index} has no image_id')
        category = rec.get('category_id')
        if category is not None:
            names[int(category)] = str(rec.get('category_name', category))
        per_image[str(img_id)].append(
            dict(
                box_xyxy=[x, y, x + w, y + h],  # XYWH -> XYXY
                score=rec.get('score'),
                category_id=category,
                order=index,
            )
        )
    categories = sorted(names)
    label_of = {c: i for i, c in enumerate(categories)}
    for dets in per_image.values():
        for det in dets:
            det['label'] = label_of.get(det.pop('category_id'), 0) if categories else 0
    return dict(per_image), [names[c] for c in categories]


def image_sizes(instances: str | None) -> dict[str, tuple[int, int]]:
    """``{image id: (H, W)}`` from a COCO instances file (empty without one)."""
    if instances is None:
        return {}
    data = load_json_file(instances, what='instances file')
    return {
        str(img['id']): (int(img['height']), int(img['width'])) for img in data.get('images', [])
    }


def import_dets(path: str, out: str, *, instances: str | None = None) -> RegionCache:
    """Write one region-cache entry per image of ``path``; resumes an interrupted import."""
    per_image, classes = read_dets(path)
    sizes = image_sizes(instances)
    cache = RegionCache.create(
        out,
        dict(
            detector=dict(source='MAttNet dets.json', file=osp.basename(path), classes=classes),
            extraction=dict(
                feature_dim=0, feature_dtype='float32', box_format='xyxy, original image pixels'
            ),
        ),
    )
    cache.remove_stale_temporaries()
    for img_id, dets in per_image.items():
        if img_id in cache:
            continue
        if all(d['score'] is not None for d in dets):
            dets = sorted(dets, key=lambda d: (-float(d['score']), d['order']))
        num = len(dets)
        cache.write(
            img_id,
            dict(
                boxes_xyxy=np.array([d['box_xyxy'] for d in dets], np.float32).reshape(num, 4),
                scores=np.array(
                    [1.0 if d['score'] is None else d['score'] for d in dets], np.float32
                ),
                labels=np.array([d['label'] for d in dets], np.int32),
                features=np.zeros((num, 0), np.float32),
                image_hw=sizes.get(img_id, (-1, -1)),
            ),
        )
    cache.update_meta(num_images=len(cache))
    return cache


def main(argv=None) -> RegionCache:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('dets', help="MAttNet's dets.json (or the AMC code's dict of boxes)")
    parser.add_argument('--out', required=True, help='the region cache folder')
    parser.add_argument('--instances', help='COCO instances.json, for the image sizes')
    args = parser.parse_args(argv)
    cache = import_dets(args.dets, args.out, instances=args.instances)
    print(f'{len(cache)} images -> {args.out} ({len(cache.meta["detector"]["classes"])} classes)')
    return cache


if __name__ == '__main__':
    main()
