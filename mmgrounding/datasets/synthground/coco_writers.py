"""The COCO pieces: instance annotations and image entries (RefCOCO's and RefCLEF's
``instances.json``), and the COCO captions writer (``coco/annotations/captions_<split>.json``)."""

from __future__ import annotations

import os.path as osp
from typing import Sequence

from .output import SPLITS, write_json
from .record import ImageRecord
from .scene import SceneObject
from .shapes import CATEGORIES


def _polygon_area(flat_xy: Sequence[float]) -> float:
    xs, ys = flat_xy[0::2], flat_xy[1::2]
    n = len(xs)
    return abs(sum(xs[k] * ys[(k + 1) % n] - xs[(k + 1) % n] * ys[k] for k in range(n))) / 2


def coco_annotation(
    record: ImageRecord,
    object_index: int,
    obj: SceneObject,
    *,
    categories: Sequence[str] = CATEGORIES,
) -> dict:
    """COCO instance annotation: XYWH 0-based float box, outline polygon, polygon area."""
    polygon = [round(v, 2) for xy in obj.outline_xy() for v in xy]
    return {
        'id': record.ann_id(object_index),
        'image_id': record.image_id,
        'category_id': list(categories).index(obj.category) + 1,
        'bbox': [float(v) for v in obj.box_xywh],
        'area': round(_polygon_area(polygon), 2),
        'iscrowd': 0,
        'segmentation': [polygon],
    }


def coco_image_entry(record: ImageRecord) -> dict:
    return {
        'id': record.image_id,
        'file_name': record.file_name,
        'width': record.scene.width,
        'height': record.scene.height,
    }


def write_coco_captions(out_dir: str, records: Sequence[ImageRecord], *, version: str) -> dict:
    """``coco/annotations/captions_<split>.json``; captions are the plain Flickr captions."""
    counts, caption_id = {}, 0
    for split in SPLITS:
        images, annotations = [], []
        for record in (r for r in records if r.split == split):
            images.append(coco_image_entry(record))
            for caption in record.captions:
                caption_id += 1
                annotations.append(
                    {'id': caption_id, 'image_id': record.image_id, 'caption': caption.text}
                )
        info = {
            'description': f'SynthGround captions, {split} split',
            'version': version,
            'year': 2024,
            'contributor': 'mmgrounding SynthGround generator',
            'date_created': '2024-01-01',
        }
        write_json(
            osp.join(out_dir, 'coco', 'annotations', f'captions_{split}.json'),
            {'info': info, 'images': images, 'annotations': annotations, 'licenses': []},
        )
        counts[split] = {'images': len(images), 'captions': len(annotations)}
    return counts
