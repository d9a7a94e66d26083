"""The REFER writers: RefCOCO (unc: ``refcoco/instances.json`` and ``refs(unc).p``) and the ReferIt
split of its own (v2 preset) in both ReferItGame distributions (RefCLEF and Berkeley)."""

from __future__ import annotations

import os.path as osp
import pickle
from collections import Counter
from typing import Dict, List, Sequence

from .coco_writers import coco_annotation, coco_image_entry
from .output import REFCOCO_SPLITS, SPLITS, write_json
from .record import ImageRecord
from .shapes import CATEGORIES, PHRASE_TYPE_OF_CATEGORY
from .taxonomy import concept_chain

REFERIT_IMAGE_DIR = 'referit/images'


def _supercategory(category: str) -> str:
    """COCO ``supercategory``: the phrase type of a shape, the WordNet lemma of a pictogram's."""
    if category in PHRASE_TYPE_OF_CATEGORY:
        return PHRASE_TYPE_OF_CATEGORY[category]
    return concept_chain(category)[-1].split('.')[0]


def _refer_files(
    records: Sequence[ImageRecord], split_names: Sequence[str], categories: Sequence[str]
) -> tuple:
    """COCO instances and REFER refs of ``records``; counts per split name."""
    images, annotations, refs = [], [], []
    counts = {s: Counter() for s in split_names}
    sent_id = 0
    for record in records:
        images.append(coco_image_entry(record))
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
