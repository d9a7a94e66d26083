"""Reading the official Visual Genome JSON files into (image, text prompt, box) triplets.

:class:`_VGReader` reads ``image_data.json``, ``objects.json`` + ``attributes.json`` and
``region_descriptions.json`` and checks every record against ``image_data.json``;
:func:`load_vg_triplets` turns the records into triplets with the prompt builders of
:mod:`.vg_prompts`. :class:`~mmgrounding.datasets.VisualGenomeTripletDataset` serves them.
"""

import os.path as osp
from collections import Counter, defaultdict
from collections.abc import Sequence

from .utils import GroundingAnnotationError, check_box, load_json_file
from .vg_prompts import SOURCES, image_triplets

VG_FILES = dict(
    image_data='image_data.json',
    objects='objects.json',
    attributes='attributes.json',
    regions='region_descriptions.json',
)
# The ids image_data.json gives a VG image in the datasets it shares images with.
EVAL_ID_KEYS = ('coco_id', 'flickr_id')


def _as_list(data: object, path: str) -> list:
    if not isinstance(data, list):
        raise GroundingAnnotationError(
            f'{path}: expected a JSON list of per-image records, got {type(data).__name__}'
        )
    return data


def _clean(text: object) -> str:
    """Lower-case, single-spaced text; '' for missing values."""
    return ' '.join(str(text).lower().split()) if text is not None else ''


def image_file_from_url(record: dict) -> str:
    """``VG_100K_2/1.jpg`` from an image_data record's url, ``<image_id>.jpg`` without one."""
    url = record.get('url')
    if url:
        return '/'.join(url.rstrip('/').split('/')[-2:])
    return f'{record.get("image_id", record.get("id"))}.jpg'


class _VGReader:
    """Reads the official files and checks each record against ``image_data.json``."""

    def __init__(self, vg_dir: str, *, skip_invalid_boxes: bool, counts: Counter) -> None:
        self.vg_dir = vg_dir
        self.skip_invalid_boxes = skip_invalid_boxes
        self.counts = counts
        self.paths = {key: osp.join(vg_dir, name) for key, name in VG_FILES.items()}
        self.images = self._read_images()

    def _read_images(self) -> dict:
        path = self.paths['image_data']
        images = {}
        for index, record in enumerate(_as_list(load_json_file(path), path)):
            image_id = record.get('image_id', record.get('id'))
            try:
                width, height = int(record['width']), int(record['height'])
            except (KeyError, TypeError, ValueError) as e:
                raise GroundingAnnotationError(
                    f'{path}: record #{index} (image {image_id}) has no valid width/height'
                ) from e
            if image_id is None or width <= 0 or height <= 0:
                raise GroundingAnnotationError(
                    f'{path}: record #{index} needs an image_id and a positive size'
                )
            images[image_id] = dict(
                image_id=image_id,
                width=width,
                height=height,
                file_name=image_file_from_url(record),
                **{key: record.get(key) for key in EVAL_ID_KEYS},
            )
        return images

    def _image(self, key: str, index: int, image_id: object) -> dict:
        if image_id not in self.images:
            raise GroundingAnnotationError(
                f'{self.paths[key]}: record #{index}: image {image_id} has no entry in '
                f'{self.paths["image_data"]}'
            )
        return self.images[image_id]

    def _box(self, record: dict, image: dict, key: str, what: str) -> list[float] | None:
        """The record's box as clipped xyxy, or None (counted) when it is unusable."""
        path = self.paths[key]
        try:
            x, y = float(record['x']), float(record['y'])
            w = float(record['w'] if 'w' in record else record['width'])
            h = float(record['h'] if 'h' in record else record['height'])
        except (KeyError, TypeError, ValueError) as e:
            raise GroundingAnnotationError(f'{path}: {what} has no valid x/y/w/h') from e
        width, height = image['width'], image['height']
        raw = [x, y, x + w, y + h]  # XYWH -> XYXY
        # Only NaN and empty boxes here: boxes reaching past the border (common in VG) are
        # clipped to the image below.
        problem = check_box(raw, width, height, tol=float('inf'))
        box = [
            min(max(raw[0], 0.0), width),
            min(max(raw[1], 0.0), height),
            min(max(raw[2], 0.0), width),
            min(max(raw[3], 0.0), height),
        ]
        if problem is None and (box[2] <= box[0] or box[3] <= box[1]):
            problem = f'box {raw} lies outside the {width}x{height} image'
        if problem is not None:
            if not self.skip_invalid_boxes:
                raise GroundingAnnotationError(f'{path}: {what}: {problem}')
            self.counts['invalid_boxes'] += 1
            return None
        if box != raw:
            self.counts['clipped_boxes'] += 1
        return box

    def read_attributes(self) -> dict:
        """``{object_id: [attribute, ...]}`` from ``attributes.json``."""
        path = self.paths['attributes']
        attributes = {}
        for index, record in enumerate(_as_list(load_json_file(path), path)):
            self._image('attributes', index, record.get('image_id', record.get('id')))
            for obj in record.get('attributes') or []:
                values = [_clean(a) for a in obj.get('attributes') or []]
                if 'object_id' in obj and any(values):
                    attributes[obj['object_id']] = [a for a in values if a]
        return attributes

    def read_objects(self, attributes: dict) -> dict:
        """``{image_id: [dict(object_id, name, attributes, box_xyxy), ...]}``."""
        path = self.paths['objects']
        objects = defaultdict(list)
        for index, record in enumerate(_as_list(load_json_file(path), path)):
            image_id = record.get('image_id', record.get('id'))
            image = self._image('objects', index, image_id)
            for obj in record.get('objects') or []:
                object_id = obj.get('object_id')
                names = obj.get('names') or [obj.get('name')]  # v1.4 'names', v1.0 'name'
                name = _clean(names[0])
                if not name:
                    self.counts['unnamed_objects'] += 1
                    continue
                box = self._box(
                    obj,
                    image,
                    'objects',
                    f'record #{index}, object {object_id} of image {image_id}',
                )
                if box is not None:
                    objects[image_id].append(
                        dict(
                            object_id=object_id,
                            name=name,
                            attributes=attributes.get(object_id, []),
                            box_xyxy=box,
                        )
                    )
        return objects

    def read_regions(self) -> dict:
        """``{image_id: [dict(region_id, phrase, box_xyxy), ...]}``."""
        path = self.paths['regions']
        regions = defaultdict(list)
        for index, record in enumerate(_as_list(load_json_file(path), path)):
            image_id = record.get('id', record.get('image_id'))
            image = self._image('regions', index, image_id)
            for region in record.get('regions') or []:
                region_id = region.get('region_id')
                phrase = ' '.join(str(region.get('phrase') or '').split())
                if not phrase:
                    self.counts['empty_region_phrases'] += 1
                    continue
                box = self._box(
                    region,
                    image,
                    'regions',
                    f'record #{index}, region {region_id} of image {image_id}',
                )
                if box is not None:
                    regions[image_id].append(dict(region_id=region_id, phrase=phrase, box_xyxy=box))
        return regions


def load_vg_triplets(
    vg_dir: str,
    *,
    sources: Sequence[str] = SOURCES,
    min_box_area_frac: float = 0.08,
    max_attributes: int = 1,
    spatial: bool = True,
    skip_invalid_boxes: bool = True,
) -> dict:
    """Build the triplets of a Visual Genome folder.

    Reads ``image_data.json`` and, for the chosen sources, ``objects.json`` +
    ``attributes.json`` and/or ``region_descriptions.json``. Boxes are XYWH pixels in the
    files and become continuous xyxy, clipped to the image.

    Args:
        vg_dir: the folder holding the JSON files.
        sources: ``'objects'`` (object and spatial prompts), ``'regions'`` or both.
        min_box_area_frac: boxes covering less of the image are dropped (AMC: 0.08).
        max_attributes: attributes per object prompt.
        spatial: add spatial prompts for names occurring several times in an image.
        skip_invalid_boxes: drop (and count) empty boxes or boxes wholly outside the image
            instead of raising an error that names the file and record.

    Returns:
        ``dict(images, triplets, counts)``: ``images`` lists ``dict(image_id, width, height,
        file_name)`` of the images with at least one triplet (``file_name`` relative to the
        image folder, e.g. ``VG_100K/1.jpg``); ``triplets`` lists ``dict(image_id, text,
        box_xyxy, ref_id, prompt_type, source)``; ``counts`` is a :class:`Counter` of
        ``images``, ``triplets_<source>``, ``spatial_prompts``, ``small_<source[:-1]>_boxes``
        and the skipped records.
    """
    sources = check_sources(sources)
    counts: Counter = Counter()
    reader = _VGReader(vg_dir, skip_invalid_boxes=skip_invalid_boxes, counts=counts)
    objects, regions = {}, {}
    if 'objects' in sources:
        objects = reader.read_objects(reader.read_attributes())
    if 'regions' in sources:
        regions = reader.read_regions()
    images, triplets = [], []
    for image_id, image in reader.images.items():
        found = image_triplets(
            objects.get(image_id, []),
            regions.get(image_id, []),
            width=image['width'],
            height=image['height'],
            sources=sources,
            min_box_area_frac=min_box_area_frac,
            max_attributes=max_attributes,
            spatial=spatial,
            counts=counts,
        )
        if not found:
            counts['images_without_triplets'] += 1
            continue
        images.append(image)
        triplets += [dict(image_id=image_id, **t) for t in found]
    counts['images'] = len(images)
    for source in SOURCES:
        counts[f'triplets_{source}'] = sum(t['source'] == source for t in triplets)
    counts['spatial_prompts'] = sum(t['prompt_type'] == 'spatial' for t in triplets)
    return dict(images=images, triplets=triplets, counts=counts)


def check_sources(sources: Sequence[str]) -> tuple[str, ...]:
    """Validate a ``sources`` option: a non-empty subset of :data:`SOURCES`."""
    sources = (sources,) if isinstance(sources, str) else tuple(sources)
    if not sources or any(s not in SOURCES for s in sources):
        raise ValueError(f'sources must be a non-empty subset of {SOURCES}, got {sources}')
    return sources
