"""Writers of the public annotation formats: one function per format.

Each writer takes the :class:`~.record.ImageRecord` list of a build (in index order) and
returns the counts it wrote. Ids shared across formats come from the record: COCO annotation
id == Visual Genome object id == ``record.ann_id(object_index)``; Flickr30k entity ids are
``record.global_entity_id(local_id)``. Output is deterministic: fixed key order, no
timestamps, ``\\n`` line ends.
"""

from __future__ import annotations

import json
import os
import os.path as osp
import pickle
from collections import Counter
from typing import Dict, List, Optional, Sequence

from .language import (
    NOTVISUAL_PHRASE_TYPE,
    SCENE_PHRASE_TYPE,
    Caption,
    Phrase,
)
from .record import ImageRecord
from .referring import (
    region_box_xyxy,
)
from .scene import Scene, SceneObject
from .shapes import CATEGORIES, PHRASE_TYPE_OF_CATEGORY
from .taxonomy import CONCEPT_NOUNS, PART_COLOURS, concept_chain

SPLITS = ('train', 'val', 'test')
REFCOCO_SPLITS = ('train', 'val', 'testA', 'testB')
REFERIT_IMAGE_DIR = 'referit/images'


def write_text(path: str, text: str) -> None:
    """Write UTF-8 text with ``\\n`` line ends, creating the folder."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(text.encode('utf-8'))


def write_json(path: str, obj: object, *, indent: Optional[int] = None) -> None:
    """Write JSON in the key order of ``obj`` (compact unless ``indent``)."""
    separators = (',', ': ') if indent else (',', ':')
    write_text(path, json.dumps(obj, indent=indent, separators=separators) + '\n')


def count_images(records: Sequence[ImageRecord]) -> Dict[str, int]:
    """Images per split and per RefCOCO split, plus the total."""
    counts = Counter(r.split for r in records)
    refcoco = Counter(r.refcoco_split for r in records)
    result = {split: counts[split] for split in SPLITS}
    result.update({f'refcoco_{s}': refcoco[s] for s in REFCOCO_SPLITS})
    result['total'] = len(records)
    result['objects'] = sum(len(r.scene.objects) for r in records)
    return result


# ----------------------------------------------------------------------- Flickr30k Entities
def flickr_sentence_line(caption: Caption, record: ImageRecord) -> str:
    """A caption in Flickr30k Entities markup: ``A [/EN#3/round small red circle] is ...``."""
    tokens = []
    for segment in caption.segments:
        if isinstance(segment, Phrase):
            entity_id = record.global_entity_id(segment.entity_id)
            opener = f'[/EN#{entity_id}/{"/".join(segment.phrase_types)}'
            tokens.append(f'{opener} {" ".join(segment.words)}]')
        else:
            tokens.append(segment)
    return ' '.join(tokens)


def flickr_annotation_xml(record: ImageRecord) -> str:
    """The ``Annotations/<id>.xml`` text: one ``<object>`` per box, boxes 1-based inclusive."""
    scene = record.scene
    names: Dict[int, List[int]] = {i: [] for i in range(len(scene.objects))}
    scene_entities = []
    for local_id, entity in sorted(record.entities.items()):
        if entity.phrase_types == (SCENE_PHRASE_TYPE,):
            scene_entities.append(record.global_entity_id(local_id))
        for i in entity.object_indices:
            names[i].append(record.global_entity_id(local_id))
    lines = [
        '<annotation>',
        f'\t<filename>{record.file_name}</filename>',
        '\t<size>',
        f'\t\t<width>{scene.width}</width>',
        f'\t\t<height>{scene.height}</height>',
        '\t\t<depth>3</depth>',
        '\t</size>',
    ]
    for i, obj in enumerate(scene.objects):
        if not names[i]:
            continue
        x1, y1, x2, y2 = obj.box_xyxy
        lines.append('\t<object>')
        lines += [f'\t\t<name>{entity_id}</name>' for entity_id in sorted(names[i])]
        # (x1, y1, x2, y2) continuous -> 1-based inclusive pixel indices.
        lines += [
            '\t\t<bndbox>',
            f'\t\t\t<xmin>{x1 + 1}</xmin>',
            f'\t\t\t<ymin>{y1 + 1}</ymin>',
            f'\t\t\t<xmax>{x2}</xmax>',
            f'\t\t\t<ymax>{y2}</ymax>',
            '\t\t</bndbox>',
            '\t</object>',
        ]
    for entity_id in scene_entities:
        lines += [
            '\t<object>',
            f'\t\t<name>{entity_id}</name>',
            '\t\t<nobndbox>0</nobndbox>',
            '\t\t<scene>1</scene>',
            '\t</object>',
        ]
    lines.append('</annotation>')
    return '\n'.join(lines) + '\n'


def write_flickr30k_entities(out_dir: str, records: Sequence[ImageRecord]) -> dict:
    """``flickr30k_entities/{Annotations,Sentences}/<id>.*`` and ``{train,val,test}.txt``."""
    root = osp.join(out_dir, 'flickr30k_entities')
    counts = {s: Counter() for s in SPLITS}
    for record in records:
        lines = [flickr_sentence_line(c, record) for c in record.captions]
        write_text(osp.join(root, 'Sentences', f'{record.image_id}.txt'), '\n'.join(lines) + '\n')
        write_text(
            osp.join(root, 'Annotations', f'{record.image_id}.xml'), flickr_annotation_xml(record)
        )
        c = counts[record.split]
        c['images'] += 1
        c['captions'] += len(record.captions)
        for caption in record.captions:
            for phrase, _, _ in caption.phrase_spans():
                if phrase.phrase_types == (SCENE_PHRASE_TYPE,):
                    c['scene_phrases'] += 1
                elif phrase.phrase_types == (NOTVISUAL_PHRASE_TYPE,):
                    c['notvisual_phrases'] += 1
                else:
                    c['box_phrases'] += 1
        c['entities'] += len(record.entities)
        c['boxes'] += sum(
            any(i in e.object_indices for e in record.entities.values())
            for i in range(len(record.scene.objects))
        )
    for split in SPLITS:
        ids = [str(r.image_id) for r in records if r.split == split]
        write_text(osp.join(root, f'{split}.txt'), ''.join(f'{i}\n' for i in ids))
    keys = (
        'images',
        'captions',
        'box_phrases',
        'scene_phrases',
        'notvisual_phrases',
        'entities',
        'boxes',
    )
    return {s: {k: counts[s][k] for k in keys} for s in SPLITS}


# ------------------------------------------------------------------------- RefCOCO (unc)
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


def _image_entry(record: ImageRecord) -> dict:
    return {
        'id': record.image_id,
        'file_name': record.file_name,
        'width': record.scene.width,
        'height': record.scene.height,
    }


def _supercategory(category: str) -> str:
    """COCO ``supercategory``: the phrase type of a shape, the WordNet lemma of a pictogram's."""
    if category in PHRASE_TYPE_OF_CATEGORY:
        return PHRASE_TYPE_OF_CATEGORY[category]
    return concept_chain(category)[-1].split('.')[0]


def context_dependent(scene: Scene, object_index: int) -> bool:
    """Whether another object of the scene has the same category (see ``CONTEXT_RULE``)."""
    category = scene.objects[object_index].category
    return any(o.category == category for k, o in enumerate(scene.objects) if k != object_index)


def _refer_files(
    records: Sequence[ImageRecord], split_names: Sequence[str], categories: Sequence[str]
) -> tuple:
    """COCO instances and REFER refs of ``records``; counts per split name."""
    images, annotations, refs = [], [], []
    counts = {s: Counter() for s in split_names}
    sent_id = 0
    for record in records:
        images.append(_image_entry(record))
        split = record.refcoco_split if 'testA' in split_names else record.split
        for i, obj in enumerate(record.scene.objects):
            annotation = coco_annotation(record, i, obj, categories=categories)
            annotations.append(annotation)
            sentences = []
            for expression in record.referring_expressions[i]:
                sentences.append(
                    {
                        'tokens': list(expression.tokens),
                        'raw': expression.raw,
                        'sent_id': sent_id,
                        'sent': ' '.join(expression.tokens),
                    }
                )
                sent_id += 1
            refs.append(
                {
                    'sent_ids': [s['sent_id'] for s in sentences],
                    'file_name': f'{record.image_id}_{annotation["id"]}.jpg',
                    'ann_id': annotation['id'],
                    'ref_id': len(refs),
                    'image_id': record.image_id,
                    'split': split,
                    'sentences': sentences,
                    'category_id': annotation['category_id'],
                }
            )
            counts[split]['refs'] += 1
            counts[split]['sentences'] += len(sentences)
    category_entries = [
        {'id': k + 1, 'name': name, 'supercategory': _supercategory(name)}
        for k, name in enumerate(categories)
    ]
    instances = {'images': images, 'annotations': annotations, 'categories': category_entries}
    split_counts = {
        s: {'refs': counts[s]['refs'], 'sentences': counts[s]['sentences']} for s in split_names
    }
    return instances, refs, split_counts


def write_refcoco(
    out_dir: str, records: Sequence[ImageRecord], *, categories: Sequence[str] = CATEGORIES
) -> dict:
    """``refcoco/instances.json`` (COCO) and ``refcoco/refs(unc).p`` (pickle protocol 2)."""
    instances, refs, counts = _refer_files(records, REFCOCO_SPLITS, categories)
    root = osp.join(out_dir, 'refcoco')
    write_json(osp.join(root, 'instances.json'), instances)
    with open(osp.join(root, 'refs(unc).p'), 'wb') as f:
        pickle.dump(refs, f, protocol=2)
    return counts


# -------------------------------------------------------------------------- Visual Genome
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


# --------------------------------------------------------------------------- COCO captions
def write_coco_captions(out_dir: str, records: Sequence[ImageRecord], *, version: str) -> dict:
    """``coco/annotations/captions_<split>.json``; captions are the plain Flickr captions."""
    counts, caption_id = {}, 0
    for split in SPLITS:
        images, annotations = [], []
        for record in (r for r in records if r.split == split):
            images.append(_image_entry(record))
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


# ------------------------------------------------------------------ ReferItGame (v2 preset)
def write_referit(
    out_dir: str, records: Sequence[ImageRecord], *, categories: Sequence[str]
) -> dict:
    """The ReferIt split of its own, in both distributions of ReferItGame.

    - RefCLEF (UNC ``refer``): ``referit/refclef/instances.json`` and
      ``referit/refclef/refs(berkeley).p`` with splits ``train``, ``val`` and ``test``;
    - Berkeley (Hu et al.): ``referit/berkeley/referit_query_{train,val,trainval,test}.json``
      (``{"<img>_<region>": [query, ...]}``), ``referit_bbox.json`` (``[x_min, y_min, x_max,
      y_max]``, inclusive pixel indices), ``referit_imsize.json`` (``{"<img>": [w, h]}``) and
      ``referit_imcrop.json`` (``{"<img>": ["<img>_<region>", ...]}``).

    Region ``k`` (from 1) of an image is its object ``k - 1``; queries are the referring
    expressions' ``sent``. Images are ``referit/images/<img>.jpg`` (written by the builder).
    """
    instances, refs, counts = _refer_files(records, SPLITS, categories)
    root = osp.join(out_dir, 'referit')
    write_json(osp.join(root, 'refclef', 'instances.json'), instances)
    with open(osp.join(root, 'refclef', 'refs(berkeley).p'), 'wb') as f:
        pickle.dump(refs, f, protocol=2)
    queries: Dict[str, Dict[str, List[str]]] = {s: {} for s in SPLITS}
    bboxes, imsizes, imcrops = {}, {}, {}
    for record in records:
        name = str(record.image_id)
        imsizes[name] = [record.scene.width, record.scene.height]
        imcrops[name] = []
        for i, obj in enumerate(record.scene.objects):
            key = f'{name}_{i + 1}'
            x1, y1, x2, y2 = obj.box_xyxy
            bboxes[key] = [x1, y1, x2 - 1, y2 - 1]  # continuous XYXY -> inclusive pixel indices
            imcrops[name].append(key)
            sentences = [' '.join(e.tokens) for e in record.referring_expressions[i]]
            queries[record.split][key] = sentences
    berkeley = osp.join(root, 'berkeley')
    for split in SPLITS:
        write_json(osp.join(berkeley, f'referit_query_{split}.json'), queries[split])
    write_json(
        osp.join(berkeley, 'referit_query_trainval.json'), {**queries['train'], **queries['val']}
    )
    write_json(osp.join(berkeley, 'referit_bbox.json'), bboxes)
    write_json(osp.join(berkeley, 'referit_imsize.json'), imsizes)
    write_json(osp.join(berkeley, 'referit_imcrop.json'), imcrops)
    counts['images'] = {s: sum(r.split == s for r in records) for s in SPLITS}
    return counts


# ------------------------------------------------------------ context and parts (v2 preset)
def _noun_level(words: Sequence[str], chain: Sequence[str]) -> str:
    """Which synset of ``chain`` a phrase names: 'own', 'intermediate' or 'supercategory'."""
    text = ' ' + ' '.join(w.lower() for w in words) + ' '
    for k, synset in enumerate(chain):
        if any(f' {" ".join(n.singular)} ' in text for n in CONCEPT_NOUNS[synset]):
            return 'own' if k == 0 else 'supercategory' if k == len(chain) - 1 else 'intermediate'
    return 'none'


def write_v2_annotations(
    out_dir: str,
    records: Sequence[ImageRecord],
    referit_records: Sequence[ImageRecord],
    *,
    rule: str,
) -> dict:
    """``v2/context.json`` (which refs and phrases are context-dependent) and ``v2/parts.json``.

    ``context.json``: ``{"rule": ..., "refcoco_ref_ids": [...], "referit_ref_ids": [...],
    "referit_region_keys": ["<img>_<region>", ...], "flickr30k_phrases": [[image_id,
    caption index, entity id], ...]}``: every context-dependent item, in file order (ref ids
    as in the refs pickles, which count refs from 0 in each). ``parts.json``: one record per
    object with a telling part: ``{ann_id, image_id, category, box_xywh, part_box_xywh,
    part_colour}``.

    Returns:
        Per split: refs and context-dependent refs, the latter also by what their first
        expression uses (``context_refs_first_<kind>``; RefCOCO splits, ReferIt splits), box
        phrases of one object, the context-dependent ones and the synset each names (its
        own, an intermediate one, the supercategory: ``single_object_phrases_naming_<level>``;
        Flickr30k), and parts.
    """
    context = {
        'rule': rule,
        'refcoco_ref_ids': [],
        'referit_ref_ids': [],
        'referit_region_keys': [],
        'flickr30k_phrases': [],
    }
    counts: Dict[str, Counter] = {}
    parts = []
    for source, group in (('refcoco', records), ('referit', referit_records)):
        ref_id = 0
        for record in group:
            split = record.refcoco_split if source == 'refcoco' else record.split
            c = counts.setdefault(f'{source}_{split}', Counter())
            for i, obj in enumerate(record.scene.objects):
                c['refs'] += 1
                c['large_objects'] += obj.size == 'large'
                if context_dependent(record.scene, i):
                    c['context_refs'] += 1
                    c[f'context_refs_first_{record.referring_expressions[i][0].kind}'] += 1
                    context[f'{source}_ref_ids'].append(ref_id)
                    if source == 'referit':
                        context['referit_region_keys'].append(f'{record.image_id}_{i + 1}')
                ref_id += 1
                if obj.part_box_xyxy is not None:
                    c['parts'] += 1
                    px1, py1, px2, py2 = obj.part_box_xyxy
                    parts.append(
                        {
                            'ann_id': record.ann_id(i),
                            'image_id': record.image_id,
                            'category': obj.category,
                            'box_xywh': list(obj.box_xywh),
                            'part_box_xywh': [px1, py1, px2 - px1, py2 - py1],
                            'part_colour': list(PART_COLOURS[concept_chain(obj.category)[-1]]),
                        }
                    )
    for record in records:
        c = counts.setdefault(f'flickr30k_{record.split}', Counter())
        for k, caption in enumerate(record.captions):
            for phrase, _, _ in caption.phrase_spans():
                entity = record.entities.get(phrase.entity_id)
                if entity is None or len(entity.object_indices) != 1:
                    continue
                c['single_object_phrases'] += 1
                obj = record.scene.objects[entity.object_indices[0]]
                if obj.is_pictogram:
                    level = _noun_level(phrase.words, concept_chain(obj.category))
                    c[f'single_object_phrases_naming_{level}'] += 1
                if context_dependent(record.scene, entity.object_indices[0]):
                    c['context_phrases'] += 1
                    context['flickr30k_phrases'].append(
                        [record.image_id, k, record.global_entity_id(phrase.entity_id)]
                    )
    write_json(osp.join(out_dir, 'v2', 'context.json'), context)
    write_json(osp.join(out_dir, 'v2', 'parts.json'), parts)
    return {name: dict(sorted(c.items())) for name, c in sorted(counts.items())}
