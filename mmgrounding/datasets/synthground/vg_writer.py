"""The Visual Genome writer: ``vg/{image_data,objects,attributes,region_descriptions,
relationships}.json``."""

from __future__ import annotations

import os.path as osp
from typing import Sequence

from .output import write_json
from .record import ImageRecord
from .referring import region_box_xyxy
from .taxonomy import concept_chain


def _vg_box(box_xyxy: Sequence[int]) -> dict:
    x1, y1, x2, y2 = box_xyxy
    return {'x': x1, 'y': y1, 'w': x2 - x1, 'h': y2 - y1}


def write_visual_genome(out_dir: str, records: Sequence[ImageRecord]) -> dict:
    """``vg/{image_data,objects,attributes,region_descriptions,relationships}.json``."""
    image_data, objects, attributes, regions, relationships = [], [], [], [], []
    region_id = relationship_id = 0
    for record in records:
        scene = record.scene
        image_data.append(
            {
                'image_id': record.image_id,
                'width': scene.width,
                'height': scene.height,
                'url': f'images/{record.file_name}',
                'coco_id': None,
                'flickr_id': None,
            }
        )
        vg_objects = [
            {
                'object_id': record.ann_id(i),
                **_vg_box(o.box_xyxy),
                'names': [o.category],
                'synsets': [concept_chain(o.category)[0]] if o.is_pictogram else [],
            }
            for i, o in enumerate(scene.objects)
        ]
        objects.append({'image_id': record.image_id, 'objects': vg_objects})
        attributes.append(
            {
                'image_id': record.image_id,
                'attributes': [
                    {**vg_object, 'attributes': [o.colour, o.size]}
                    for vg_object, o in zip(vg_objects, scene.objects)
                ],
            }
        )
        image_regions = []
        for region in record.regions:
            region_id += 1
            box = _vg_box(region_box_xyxy(scene, region.object_indices))
            image_regions.append(
                {
                    'region_id': region_id,
                    'image_id': record.image_id,
                    'phrase': region.phrase,
                    'x': box['x'],
                    'y': box['y'],
                    'width': box['w'],
                    'height': box['h'],
                }
            )
        regions.append({'id': record.image_id, 'regions': image_regions})
        image_relationships = []
        for i, predicate, j in record.relationships:
            relationship_id += 1
            image_relationships.append(
                {
                    'relationship_id': relationship_id,
                    'predicate': predicate,
                    'synsets': [],
                    'subject': {
                        'object_id': record.ann_id(i),
                        **_vg_box(scene.objects[i].box_xyxy),
                        'name': scene.objects[i].category,
                    },
                    'object': {
                        'object_id': record.ann_id(j),
                        **_vg_box(scene.objects[j].box_xyxy),
                        'name': scene.objects[j].category,
                    },
                }
            )
        relationships.append({'image_id': record.image_id, 'relationships': image_relationships})
    root = osp.join(out_dir, 'vg')
    write_json(osp.join(root, 'image_data.json'), image_data)
    write_json(osp.join(root, 'objects.json'), objects)
    write_json(osp.join(root, 'attributes.json'), attributes)
    write_json(osp.join(root, 'region_descriptions.json'), regions)
    write_json(osp.join(root, 'relationships.json'), relationships)
    return {
        'images': len(records),
        'objects': sum(len(o['objects']) for o in objects),
        'regions': region_id,
        'relationships': relationship_id,
    }
