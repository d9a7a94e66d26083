"""Visual Genome as AMC training triplets: (image, text prompt, region box).

AMC (Yang et al., CVPR 2023) trains on Visual Genome boxes paired with short texts built from
the annotations: an object with an attribute ("a brown dog"), a spatial prompt when a name
occurs several times in an image ("dog on the left", "top left dog"), and the region
descriptions with their boxes. Boxes smaller than 8% of the image are dropped.

The prompt builders are pure functions of normalised records (:mod:`.vg_prompts`);
:func:`load_vg_triplets` (:mod:`.vg_reader`) reads the official files, and
:class:`VisualGenomeTripletDataset` serves the triplets in the shared data-list format.
``tools/dataset_converters/vg_to_triplets.py`` writes them to one JSON file that the dataset
reads as well.
"""

import os.path as osp
from collections import Counter
from collections.abc import Sequence

from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger

from mmgrounding.registry import DATASETS

from .utils import (
    GroundingAnnotationError,
    check_missing_images,
    drop_missing_images,
    load_json_file,
    read_split_file,
    whole_text_phrase,
)
from .vg_prompts import (  # noqa: F401 (part of this module's interface)
    SOURCES,
    box_area_frac,
    image_triplets,
    object_prompts,
    region_prompts,
    spatial_prompts,
)
from .vg_reader import (  # noqa: F401 (part of this module's interface)
    EVAL_ID_KEYS,
    VG_FILES,
    _VGReader,
    check_sources,
    image_file_from_url,
    load_vg_triplets,
)

TRIPLETS_FORMAT = 'mmgrounding-vg-triplets-v1'
# The evaluation images kept out of training by default (relative to data_root = data/vg/):
# Flickr30k Entities val and test (image ids = Flickr ids) and the COCO ids of the RefCOCO,
# RefCOCO+ and RefCOCOg val/test images (tools/dataset_converters/refcoco_eval_image_ids.py).
EVAL_IMAGE_FILES = dict(
    flickr_id=(
        '../flickr30k/flickr30k_entities/val.txt',
        '../flickr30k/flickr30k_entities/test.txt',
    ),
    coco_id=('refcoco_eval_coco_ids.txt',),
)
TRIPLET_KEYS = frozenset(('image_id', 'text', 'box_xyxy', 'ref_id', 'prompt_type', 'source'))


# ----------------------------------------------------------------------------- dataset
@DATASETS.register_module()
class VisualGenomeTripletDataset(BaseDataset):
    """Visual Genome (image, prompt, box) triplets for AMC training, one item per triplet.

    Expected layout (``data_root`` relative)::

        image_data.json  objects.json  attributes.json  region_descriptions.json
        VG_100K/<id>.jpg  VG_100K_2/<id>.jpg   # folder taken from each image's url
        triplets.json                          # optional, from vg_to_triplets.py
        refcoco_eval_coco_ids.txt              # from refcoco_eval_image_ids.py
        ../flickr30k/flickr30k_entities/{val,test}.txt

    Each item of :meth:`load_data_list` is a dict with keys ``img_path``, ``img_id`` (the VG
    image id), ``width``, ``height``, ``caption_id`` (index of the triplet within its
    image), ``caption`` (the prompt), ``source`` (``'objects'`` or ``'regions'``),
    ``prompt_type`` (``'object'``, ``'spatial'`` or ``'region'``) and ``phrases``: one
    ``dict(text=caption, span=(0, len(caption)), entity_id=str(object or region id),
    types=[prompt_type], boxes_xyxy=[[x1, y1, x2, y2]])`` in continuous pixels.

    Args:
        ann_file: the Visual Genome folder (``''``: ``data_root`` itself) or a ``.json``
            file written by ``tools/dataset_converters/vg_to_triplets.py``.
        data_prefix: ``img``, the folder that the images' file names are relative to.
        sources: object boxes, region boxes or both (AMC Table 5).
        min_box_area_frac: drop boxes covering less of the image. A triplets file already
            lacks boxes below the fraction it was written with.
        max_attributes: attributes per object prompt (fixed in a triplets file).
        spatial: add spatial prompts ("dog on the left", "top left dog").
        url_folders: take each image's folder from its url (``VG_100K_2/1.jpg``); False
            puts every image directly in ``data_prefix['img']`` as ``<image_id>.jpg``.
        skip_invalid_boxes: drop (and count) empty boxes or boxes outside the image instead
            of raising an error naming the file and record.
        image_ids_file: keep only the images listed in this file (one id per line, relative
            to ``data_root``). Visual Genome has no split: this keeps evaluation images out of
            training (e.g. SynthGround's ``flickr30k_entities/train.txt``).
        exclude_eval_images: keep the evaluation images of the grounding benchmarks out of
            training (on by default): ``{image_data key: (id file, ...)}``, files relative to
            ``data_root`` with one id per line. A VG image whose ``coco_id`` or ``flickr_id``
            (from ``image_data.json``) is listed is dropped, counted as
            ``eval_images_excluded_<key>`` and ``triplets_of_eval_images``. The default,
            :data:`EVAL_IMAGE_FILES`, lists Flickr30k Entities val/test and the RefCOCO/+/g
            val/test COCO ids; a file is read only when some image has that key (SynthGround
            images have neither), and a missing one raises. ``None`` turns it off.
        missing_images: None (not checked at load time; ``LoadImageFromFile`` names the
            file), ``'raise'`` or ``'skip'`` (counted in ``counts``); see
            :func:`~mmgrounding.datasets.utils.drop_missing_images`.
        **kwargs: passed to :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = dict(dataset_name='visual_genome_triplets')

    def __init__(
        self,
        *args,
        data_prefix: dict = dict(img=''),
        sources: Sequence[str] = SOURCES,
        min_box_area_frac: float = 0.08,
        max_attributes: int = 1,
        spatial: bool = True,
        url_folders: bool = True,
        skip_invalid_boxes: bool = True,
        image_ids_file: str | None = None,
        exclude_eval_images: dict | None = EVAL_IMAGE_FILES,
        missing_images: str | None = None,
        **kwargs,
    ) -> None:
        self.image_ids_file = image_ids_file
        if exclude_eval_images is not None and set(exclude_eval_images) - set(EVAL_ID_KEYS):
            raise ValueError(
                f'exclude_eval_images keys must be among {EVAL_ID_KEYS}, got '
                f'{sorted(exclude_eval_images)}'
            )
        self.exclude_eval_images = exclude_eval_images
        self.missing_images = check_missing_images(missing_images)
        self.sources = check_sources(sources)
        self.min_box_area_frac = min_box_area_frac
        self.max_attributes = max_attributes
        self.spatial = spatial
        self.url_folders = url_folders
        self.skip_invalid_boxes = skip_invalid_boxes
        self.counts: Counter = Counter()
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> list[dict]:
        path = self.ann_file or self.data_root
        if not path:
            raise ValueError(
                'set ann_file (or data_root) to the Visual Genome folder or to a '
                'triplets .json file'
            )
        if path.endswith('.json'):
            built = self._read_triplets_file(path)
        else:
            built = load_vg_triplets(
                path,
                sources=self.sources,
                min_box_area_frac=self.min_box_area_frac,
                max_attributes=self.max_attributes,
                spatial=self.spatial,
                skip_invalid_boxes=self.skip_invalid_boxes,
            )
        self.counts = built['counts']
        images = {image['image_id']: image for image in built['images']}
        keep = self._listed_image_ids()
        held_out = self._eval_image_ids(images, source=path)
        data_list = []
        per_image: Counter = Counter()
        for triplet in built['triplets']:
            if keep is not None and str(triplet['image_id']) not in keep:
                self.counts['triplets_of_unlisted_images'] += 1
                continue
            if triplet['image_id'] in held_out:
                self.counts['triplets_of_eval_images'] += 1
                continue
            image = images[triplet['image_id']]
            file_name = image['file_name']
            if not self.url_folders:
                file_name = f'{image["image_id"]}.jpg'
            text = triplet['text']
            data_list.append(
                dict(
                    img_path=osp.join(self.data_prefix['img'], file_name),
                    img_id=image['image_id'],
                    width=image['width'],
                    height=image['height'],
                    caption_id=per_image[image['image_id']],
                    caption=text,
                    source=triplet['source'],
                    prompt_type=triplet['prompt_type'],
                    phrases=[
                        whole_text_phrase(
                            text,
                            entity_id=str(triplet['ref_id']),
                            types=[triplet['prompt_type']],
                            box_xyxy=triplet['box_xyxy'],
                        )
                    ],
                )
            )
            per_image[image['image_id']] += 1
        source = path if path.endswith('.json') else osp.join(path, VG_FILES['image_data'])
        data_list = drop_missing_images(
            data_list, missing_images=self.missing_images, source=source, counts=self.counts
        )
        MMLogger.get_current_instance().info(
            f'{type(self).__name__} ({path}): {len(data_list)} triplets; '
            f'counts: {dict(sorted(self.counts.items()))}'
        )
        return data_list

    def _eval_image_ids(self, images: dict, *, source: str) -> set:
        """The VG ids of the images that are evaluation images elsewhere (counted)."""
        if not self.exclude_eval_images:
            return set()
        held_out = set()
        for key, files in self.exclude_eval_images.items():
            if images and not any(key in image for image in images.values()):
                MMLogger.get_current_instance().warning(
                    f'{source}: the images carry no {key} (a triplets file written before '
                    f'ids were kept?): evaluation images cannot be excluded by {key}; '
                    'rewrite it with tools/dataset_converters/vg_to_triplets.py'
                )
                self.counts[f'eval_images_unchecked_{key}'] += len(images)
                continue
            with_key = {
                image_id: str(image[key])
                for image_id, image in images.items()
                if image.get(key) is not None
            }
            if not with_key:
                continue  # no image shares this dataset: nothing to read or exclude
            listed = set()
            for file in (files,) if isinstance(files, str) else files:
                path = osp.normpath(osp.join(self.data_root, file))
                if not osp.isfile(path):
                    raise FileNotFoundError(
                        f'{path}: the {key}s of evaluation images to keep out of training '
                        f'are missing ({len(with_key)} images of {source} have a {key}); '
                        'write it (docs/datasets.md, Visual Genome) or set '
                        'exclude_eval_images=None'
                    )
                listed.update(img_id for _, img_id in read_split_file(path))
            found = {image_id for image_id, value in with_key.items() if value in listed}
            if found:
                self.counts[f'eval_images_excluded_{key}'] += len(found)
            held_out |= found
        return held_out

    def _listed_image_ids(self) -> set[str] | None:
        if self.image_ids_file is None:
            return None
        path = osp.join(self.data_root, self.image_ids_file)
        return {img_id for _, img_id in read_split_file(path)}

    def _read_triplets_file(self, path: str) -> dict:
        """Triplets from a vg_to_triplets.py file, filtered by this dataset's options."""
        data = load_json_file(path)
        if not isinstance(data, dict) or 'triplets' not in data or 'images' not in data:
            raise GroundingAnnotationError(
                f"{path}: not a triplets file (no 'images'/'triplets' keys); write one with "
                'tools/dataset_converters/vg_to_triplets.py'
            )
        info = data.get('info', {})
        logger = MMLogger.get_current_instance()
        if info.get('min_box_area_frac', 0.0) > self.min_box_area_frac:
            logger.warning(
                f'{path} was written with min_box_area_frac='
                f'{info["min_box_area_frac"]}; smaller boxes are not in it'
            )
        missing = set(self.sources) - set(info.get('sources', SOURCES))
        if missing:
            logger.warning(f'{path} holds no triplets from {sorted(missing)}')
        if info.get('max_attributes', self.max_attributes) != self.max_attributes:
            logger.warning(f'{path} was written with max_attributes={info["max_attributes"]}')
        images = {image['image_id']: image for image in data['images']}
        counts: Counter = Counter()
        kept = []
        for index, triplet in enumerate(data['triplets']):
            missing = TRIPLET_KEYS - set(triplet)
            if missing:
                raise GroundingAnnotationError(f'{path}: triplet #{index} lacks {sorted(missing)}')
            if triplet['image_id'] not in images:
                raise GroundingAnnotationError(
                    f"{path}: triplet #{index}: image {triplet['image_id']} is not in 'images'"
                )
            image = images[triplet['image_id']]
            source, prompt_type = triplet['source'], triplet['prompt_type']
            if source not in self.sources or (not self.spatial and prompt_type == 'spatial'):
                continue
            frac = box_area_frac(triplet['box_xyxy'], image['width'], image['height'])
            if frac < self.min_box_area_frac:
                counts[f'small_{source[:-1]}_boxes'] += 1
                continue
            kept.append(triplet)
            counts[f'triplets_{source}'] += 1
            counts['spatial_prompts'] += prompt_type == 'spatial'
        used = {t['image_id'] for t in kept}
        counts['images'] = len(used)
        return dict(images=[images[i] for i in images if i in used], triplets=kept, counts=counts)
