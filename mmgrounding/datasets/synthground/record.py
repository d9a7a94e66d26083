"""The record of one generated image: what the builder makes and the writers read.

It lives apart from both, so that :mod:`.builder` imports :mod:`.writers` and neither needs
the other to describe its data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

from .language import Caption, Entity
from .referring import ReferringExpression, RegionDescription
from .scene import Scene


@dataclass(frozen=True)
class ImageRecord:
    """Everything generated for one image; the writers turn it into files.

    Attributes:
        index: 0-based position in the build.
        image_id: ``builder.IMAGE_ID_START + index``; the image file is ``images/<image_id>.jpg``.
        split: 'train', 'val' or 'test'.
        refcoco_split: 'train', 'val', 'testA' or 'testB' (see :data:`.builder.REFCOCO_TEST_RULE`).
        scene: the image content.
        captions: the captions, each with phrases and stated relations.
        entities: local entity id (from 1) -> entity; 0 is the notvisual entity.
        referring_expressions: per object (scene order), its expressions.
        regions: region descriptions.
        relationships: (subject index, predicate, object index) that hold in the scene.
    """

    index: int
    image_id: int
    split: str
    refcoco_split: str
    scene: Scene
    captions: Tuple[Caption, ...]
    entities: Dict[int, Entity]
    referring_expressions: Tuple[Tuple[ReferringExpression, ...], ...]
    regions: Tuple[RegionDescription, ...]
    relationships: Tuple[Tuple[int, str, int], ...]

    @property
    def file_name(self) -> str:
        return f'{self.image_id}.jpg'

    def ann_id(self, object_index: int) -> int:
        """COCO annotation id, also the Visual Genome object id, of an object."""
        return self.index * 10 + object_index + 1

    def global_entity_id(self, local_id: int) -> int:
        """Flickr30k entity id of a local entity id; 0 (notvisual) stays 0."""
        return 0 if local_id == 0 else self.index * 100 + local_id
