"""The Flickr30k Entities writer: ``Sentences/<id>.txt`` in the entity markup,
``Annotations/<id>.xml`` with the boxes, and the split lists."""

from __future__ import annotations

import os.path as osp
from collections import Counter
from typing import Dict, List, Sequence

from .language import NOTVISUAL_PHRASE_TYPE, SCENE_PHRASE_TYPE, Caption, Phrase
from .output import SPLITS, write_text
from .record import ImageRecord


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
