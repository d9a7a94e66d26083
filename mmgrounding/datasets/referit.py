"""ReferItGame (RefCLEF), read from the UNC ``refer`` files or from the Berkeley JSON files."""

import os.path as osp
from collections import Counter

from mmengine.dataset import BaseDataset
from mmengine.fileio import join_path
from mmengine.logging import MMLogger
from mmengine.utils import is_abs

from mmgrounding.registry import DATASETS

from .refcoco import RefCOCODataset
from .utils import (
    GroundingAnnotationError,
    SkipOrRaiseMixin,
    check_box,
    check_missing_images,
    drop_missing_images,
    load_json_file,
    whole_text_phrase,
)


@DATASETS.register_module()
class ReferItGameDataset(RefCOCODataset):
    """ReferItGame in the UNC ``refer`` layout (``refclef.zip``): one sample per sentence.

    The files have the RefCOCO format, so this is :class:`RefCOCODataset` with the RefCLEF
    defaults; see there for the items, the skips and the arguments. Expected layout
    (``data_root`` relative)::

        instances.json                      # ann_file
        refs(unc).p  refs(berkeley).p       # refs_file; an unknown split lists the file's splits
        saiapr_tc-12/<file_name>            # images: data_prefix['img'] + instances file_name
    """

    METAINFO = dict(dataset_name='referitgame')

    def __init__(self, *args, data_prefix: dict = dict(img='saiapr_tc-12/'), **kwargs) -> None:
        super().__init__(*args, data_prefix=data_prefix, **kwargs)


def _strip_ext(name: str) -> str:
    """``'8756_2.png'`` -> ``'8756_2'``, ``'8756.jpg'`` -> ``'8756'``, ``'8756_2'`` unchanged."""
    stem, ext = osp.splitext(name)
    return stem if ext.lower() in ('.png', '.jpg', '.jpeg', '.mat') else name


@DATASETS.register_module()
class ReferItBerkeleyDataset(SkipOrRaiseMixin, BaseDataset):
    """ReferItGame in the Berkeley JSON files: one sample per query.

    The files are those of Hu et al.'s ``text_objseg`` repository (``exp-referit/data/``),
    made by ``exp-referit/preprocess_dataset.py`` of ``natural-language-object-retrieval``
    from ``RealGames.txt`` and the ImageCLEF region masks. Confirmed from the published
    files and the scripts that read them:

    - ``referit_query_{trainval,test}.json`` (an older version also has ``_train``, ``_val``
      and ``_all``): ``{"<img>_<region>": ["query", ...]}``, e.g. ``{"20455_2": ["Sky, left
      side", "top", ...]}``. One version writes the keys with the mask extension (``"8756_2.png"``);
      both are accepted.
    - ``referit_bbox.json``: ``{"<img>_<region>": [x_min, y_min, x_max, y_max]}``, the
      smallest and largest column and row index of the region's mask pixels, 0-based and
      inclusive (a box reaching the right edge of a 480-wide image ends at 479). They are
      converted to continuous XYXY ``[x_min, y_min, x_max + 1, y_max + 1]``.
    - ``referit_imsize.json``: ``{"<img>": [width, height]}`` (keys ``"<img>.jpg"`` in one
      version).
    - ``referit_imcrop.json`` (``{"<img>": ["<img>_<region>", ...]}``) is not needed.
    - Images: ``ImageCLEF/images/<img>.jpg`` of ``referitdata.tar.gz``.

    Expected layout (``data_root`` relative)::

        ImageCLEF/images/<img>.jpg
        berkeley/referit_query_test.json    # ann_file
        berkeley/referit_bbox.json          # bbox_file
        berkeley/referit_imsize.json        # imsize_file

    Each item of :meth:`load_data_list` is a dict with keys ``img_path``, ``img_id`` (the
    image name, a str), ``width``, ``height``, ``caption`` (the query), ``caption_id`` (its
    index in the region's list), ``ref_id`` (``"<img>_<region>"``) and ``phrases``: one
    ``dict(text=caption, span=(0, len(caption)), entity_id=ref_id, types=[],
    boxes_xyxy=[[x1, y1, x2, y2]])``.

    Skipped and counted in the log (``skip_counts``): regions without a box in
    ``bbox_file`` and boxes of zero area or outside the image (both raise instead with
    ``skip_invalid_boxes=False``), empty queries, regions without queries.

    Args:
        ann_file: a ``referit_query_<split>.json``.
        bbox_file: ``referit_bbox.json``; relative to ``data_root``.
        imsize_file: ``referit_imsize.json``; relative to ``data_root``.
        data_prefix: ``img``, the folder holding ``<img>.jpg``.
        skip_invalid_boxes: drop (and count) regions without a usable box instead of raising.
        missing_images: None (not checked at load time; ``LoadImageFromFile`` names the
            file), ``'raise'`` or ``'skip'`` (counted); see
            :func:`~mmgrounding.datasets.utils.drop_missing_images`.
        **kwargs: passed to :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = dict(dataset_name='referitgame')

    def __init__(
        self,
        *args,
        bbox_file: str = 'berkeley/referit_bbox.json',
        imsize_file: str = 'berkeley/referit_imsize.json',
        data_prefix: dict = dict(img='ImageCLEF/images/'),
        skip_invalid_boxes: bool = True,
        missing_images: str | None = None,
        **kwargs,
    ) -> None:
        self.bbox_file = bbox_file
        self.imsize_file = imsize_file
        self.skip_invalid_boxes = skip_invalid_boxes
        self.missing_images = check_missing_images(missing_images)
        self.skip_counts: Counter = Counter()
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def _join_prefix(self) -> None:
        super()._join_prefix()
        if self.data_root:
            if not is_abs(self.bbox_file):
                self.bbox_file = join_path(self.data_root, self.bbox_file)
            if not is_abs(self.imsize_file):
                self.imsize_file = join_path(self.data_root, self.imsize_file)

    def _load_dict(self, path: str, *, what: str, value_len: int | None = None) -> dict:
        """A JSON dict keyed by name (extension stripped); values checked to be lists."""
        raw = load_json_file(path, what=what)
        if not isinstance(raw, dict):
            raise GroundingAnnotationError(
                f'{path}: expected a JSON object keyed by name, got {type(raw).__name__}'
            )
        for key, value in raw.items():
            if value_len is None:
                valid = isinstance(value, list)
            else:
                valid = (
                    isinstance(value, list)
                    and len(value) == value_len
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
                )
            if not valid:
                size = f'{value_len} numbers' if value_len else 'a list'
                raise GroundingAnnotationError(f'{path}: {key!r}: expected {size}, got {value!r}')
        return {_strip_ext(key): value for key, value in raw.items()}

    def load_data_list(self) -> list[dict]:
        self.skip_counts = Counter()
        queries = self._load_dict(self.ann_file, what='query file')
        boxes = self._load_dict(self.bbox_file, what='bbox file', value_len=4)
        sizes = self._load_dict(self.imsize_file, what='imsize file', value_len=2)
        data_list = []
        for ref_id, texts in queries.items():
            data_list.extend(self._load_region(ref_id, texts, boxes, sizes))
        data_list = drop_missing_images(
            data_list,
            missing_images=self.missing_images,
            source=self.ann_file,
            counts=self.skip_counts,
        )
        MMLogger.get_current_instance().info(
            f'{type(self).__name__} ({osp.basename(self.ann_file)}): {len(data_list)} queries '
            f'of {len(queries)} regions; skipped: {dict(sorted(self.skip_counts.items()))}'
        )
        return data_list

    def _load_region(self, ref_id: str, texts: list, boxes: dict, sizes: dict) -> list[dict]:
        """The queries of one region ``<img>_<region>``."""
        img_id, sep, region = ref_id.rpartition('_')
        if not sep or not img_id or not region:
            raise GroundingAnnotationError(
                f"{self.ann_file}: key {ref_id!r} is not of the form '<img>_<region>'"
            )
        if img_id not in sizes:
            raise GroundingAnnotationError(
                f'{self.imsize_file}: no size for image {img_id} (region {ref_id} of '
                f'{self.ann_file})'
            )
        width, height = sizes[img_id]
        if ref_id not in boxes:
            return self._skip_or_raise(
                'missing_box', f'{self.bbox_file}: no box for region {ref_id} of {self.ann_file}'
            )
        x_min, y_min, x_max, y_max = boxes[ref_id]
        box = [x_min, y_min, x_max + 1, y_max + 1]  # inclusive pixel indices -> continuous XYXY
        problem = check_box(box, width, height)
        if problem is not None:
            return self._skip_or_raise(
                'invalid_box', f'{self.bbox_file}: region {ref_id}: {problem}'
            )
        if not texts:
            self.skip_counts['ref_without_sentences'] += 1
            return []

        samples = []
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise GroundingAnnotationError(
                    f'{self.ann_file}: region {ref_id}: query #{index} is not a string: {text!r}'
                )
            text = text.strip()
            if not text:
                self.skip_counts['empty_sentence'] += 1
                continue
            samples.append(
                dict(
                    img_path=osp.join(self.data_prefix['img'], f'{img_id}.jpg'),
                    img_id=img_id,
                    width=width,
                    height=height,
                    caption=text,
                    caption_id=index,
                    phrases=[whole_text_phrase(text, entity_id=ref_id, types=[], box_xyxy=box)],
                    ref_id=ref_id,
                )
            )
        return samples
