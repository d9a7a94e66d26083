"""Writers of the public annotation formats: one function per format.

Each writer takes the :class:`~.record.ImageRecord` list of a build (in index order) and
returns the counts it wrote. Ids shared across formats come from the record: COCO annotation
id == Visual Genome object id == ``record.ann_id(object_index)``; Flickr30k entity ids are
``record.global_entity_id(local_id)``. Output is deterministic: fixed key order, no
timestamps, ``\\n`` line ends.

The writers live one format a module (:mod:`.flickr30k_writer`, :mod:`.refer_writers`,
:mod:`.vg_writer`, :mod:`.coco_writers`, :mod:`.v2_annotations_writer`, shared output in
:mod:`.output`); this module is their index.
"""

from .coco_writers import coco_annotation, coco_image_entry, write_coco_captions
from .flickr30k_writer import flickr_annotation_xml, flickr_sentence_line, write_flickr30k_entities
from .output import REFCOCO_SPLITS, SPLITS, count_images, write_json, write_text
from .refer_writers import REFERIT_IMAGE_DIR, write_refcoco, write_referit
from .v2_annotations_writer import context_dependent, write_v2_annotations
from .vg_writer import write_visual_genome

__all__ = [
    'SPLITS',
    'REFCOCO_SPLITS',
    'REFERIT_IMAGE_DIR',
    'write_text',
    'write_json',
    'count_images',
    'flickr_sentence_line',
    'flickr_annotation_xml',
    'write_flickr30k_entities',
    'coco_annotation',
    'coco_image_entry',
    'context_dependent',
    'write_refcoco',
    'write_visual_genome',
    'write_coco_captions',
    'write_referit',
    'write_v2_annotations',
]
