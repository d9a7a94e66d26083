"""The v2 preset's annotations: ``v2/context.json`` (the context-dependent refs and phrases, by
:func:`context_dependent`) and ``v2/parts.json`` (the objects with a telling part)."""

from __future__ import annotations

import os.path as osp
from collections import Counter
from typing import Dict, Sequence

from .output import write_json
from .record import ImageRecord
from .scene import Scene
from .taxonomy import CONCEPT_NOUNS, PART_COLOURS, concept_chain


def context_dependent(scene: Scene, object_index: int) -> bool:
    """Whether another object of the scene has the same category (see ``CONTEXT_RULE``)."""
    category = scene.objects[object_index].category
    return any(o.category == category for k, o in enumerate(scene.objects) if k != object_index)


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
