"""RefCOCO, RefCOCO+ and RefCOCOg, read from the ``refs(<split_by>).p`` and ``instances.json``
files of the UNC ``refer`` distribution."""

import contextlib
import io
import os.path as osp
from collections import Counter

from mmengine.dataset import BaseDataset
from mmengine.fileio import get_local_path, join_path
from mmengine.logging import MMLogger
from mmengine.utils import is_abs
from pycocotools.coco import COCO

from mmgrounding.registry import DATASETS
from mmgrounding.utils.safe_pickle import ForbiddenGlobalError, loads_plain_data

from .utils import (
    GroundingAnnotationError,
    SkipOrRaiseMixin,
    check_box,
    check_missing_images,
    drop_missing_images,
    load_json_file,
    whole_text_phrase,
)

# Keys every ref of a refs(<split_by>).p pickle has.
REF_KEYS = ('ref_id', 'ann_id', 'image_id', 'split', 'sentences')


def load_refs(path: str) -> list[dict]:
    """Read a ``refs(<split_by>).p`` pickle: a list of one dict per referent.

    Each ref has ``ref_id``, ``ann_id``, ``image_id``, ``split``, ``category_id``,
    ``sent_ids``, ``file_name`` and ``sentences``: a list of
    ``dict(tokens, raw, sent_id, sent)``. The official files were written by Python 2, so
    byte strings that are not ASCII are decoded as latin-1. The file is read with a
    restricted unpickler that builds dicts, lists, tuples, strings, numbers, None and bools
    only: a pickle that names any function or class (which is how a pickle runs code) is
    refused before that function is looked up.

    Raises:
        FileNotFoundError: the file does not exist.
        GroundingAnnotationError: the file names a global (the error names it), is
            truncated or corrupt, or is not a list of refs.
    """
    with get_local_path(path) as local_path:
        if not osp.isfile(local_path):
            raise FileNotFoundError(f'refs file {path} does not exist')
        with open(local_path, 'rb') as f:
            data = f.read()
    try:
        try:
            refs = loads_plain_data(data)
        except UnicodeDecodeError:
            # Python 2 str that is not ASCII
            refs = loads_plain_data(data, encoding='latin1')
    except ForbiddenGlobalError as e:
        raise GroundingAnnotationError(
            f'{path}: refused to unpickle the global {e.qualified_name}: a refs file holds '
            'only dicts, lists, strings and numbers, and a pickle that names a function or '
            'class can run code when loaded; this file is not an official REFER file'
        ) from e
    # A damaged pickle fails in many ways (EOFError, UnpicklingError, ValueError, ...):
    # every one of them means the same thing here, and is re-raised with the file name.
    except Exception as e:
        raise GroundingAnnotationError(
            f'{path}: truncated or corrupt pickle ({type(e).__name__}: {e})'
        ) from e
    if not isinstance(refs, list):
        raise GroundingAnnotationError(
            f'{path}: expected a pickled list of refs, got {type(refs).__name__}'
        )
    for index, ref in enumerate(refs):
        missing = [k for k in REF_KEYS if not isinstance(ref, dict) or k not in ref]
        if missing:
            raise GroundingAnnotationError(
                f'{path}: record #{index} is not a ref (missing {", ".join(missing)})'
            )
    return refs


def load_coco_instances(path: str) -> COCO:
    """Read a COCO ``instances.json`` into a pycocotools index (``anns``, ``imgs``, ``cats``).

    Raises:
        FileNotFoundError: the file does not exist.
        GroundingAnnotationError: the file is not valid JSON or not a COCO instances dict.
    """
    dataset = load_json_file(path, what='instances file')
    missing = [
        k
        for k in ('images', 'annotations', 'categories')
        if not isinstance(dataset, dict) or k not in dataset
    ]
    if missing:
        raise GroundingAnnotationError(
            f'{path}: not a COCO instances file (missing {", ".join(missing)})'
        )
    coco = COCO()  # built from the parsed dict, so that a bad file is reported as above
    coco.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):  # createIndex prints its progress
        coco.createIndex()
    return coco


@DATASETS.register_module()
class RefCOCODataset(SkipOrRaiseMixin, BaseDataset):
    """RefCOCO, RefCOCO+ and RefCOCOg: one sample per referring sentence.

    Expected layout (``data_root`` relative, as unpacked from ``refcoco*.zip`` of the UNC
    ``refer`` repository; the images are COCO ``train2014``)::

        instances.json          # ann_file: COCO images, annotations (bbox XYWH), categories
        refs(unc).p             # refs_file; refcocog has refs(umd).p and refs(google).p
        ../coco/train2014/COCO_train2014_000000xxxxxx.jpg   # data_prefix['img'] + file_name

    Splits come from the refs file: ``refs(unc).p`` of RefCOCO and RefCOCO+ has train, val,
    testA and testB; ``refs(umd).p`` of RefCOCOg has train, val and test; ``refs(google).p``
    has train and val.

    Every sentence of a referent is its own query. Each item of :meth:`load_data_list` is a
    dict with keys ``img_path``, ``img_id`` (COCO image id), ``width``, ``height``,
    ``caption`` (the sentence), ``caption_id`` (its ``sent_id``), ``ref_id``, ``ann_id``,
    ``category_id`` and ``phrases``: one
    ``dict(text=caption, span=(0, len(caption)), entity_id=str(ref_id), types=[category name],
    boxes_xyxy=[[x1, y1, x2, y2]])``, the box in continuous pixel coordinates.

    Skipped and counted in the log (``skip_counts``): refs whose ``ann_id`` is not in
    ``instances.json`` and boxes of zero area or outside the image (both raise instead with
    ``skip_invalid_boxes=False``), empty sentences, refs without sentences.

    Args:
        ann_file: the ``instances.json``.
        refs_file: the refs pickle, e.g. ``'refs(unc).p'``; relative to ``data_root``.
        split: a split present in ``refs_file``; anything else raises, listing the splits.
        data_prefix: ``img``, the folder the COCO ``file_name`` is relative to.
        sentence_key: ``'sent'`` (lower case, punctuation removed, as every RefCOCO paper
            uses) or ``'raw'`` (as typed by the annotator).
        skip_invalid_boxes: drop (and count) refs without a usable box instead of raising.
        missing_images: None (not checked at load time; ``LoadImageFromFile`` names the
            file), ``'raise'`` or ``'skip'`` (counted); see
            :func:`~mmgrounding.datasets.utils.drop_missing_images`.
        **kwargs: passed to :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = dict(dataset_name='refcoco')

    def __init__(
        self,
        *args,
        refs_file: str,
        split: str,
        data_prefix: dict = dict(img='../coco/train2014/'),
        sentence_key: str = 'sent',
        skip_invalid_boxes: bool = True,
        missing_images: str | None = None,
        **kwargs,
    ) -> None:
        if sentence_key not in ('sent', 'raw'):
            raise ValueError(f"sentence_key must be 'sent' or 'raw', got {sentence_key!r}")
        self.refs_file = refs_file
        self.split = split
        self.sentence_key = sentence_key
        self.skip_invalid_boxes = skip_invalid_boxes
        self.missing_images = check_missing_images(missing_images)
        self.skip_counts: Counter = Counter()
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def _join_prefix(self) -> None:
        super()._join_prefix()
        if self.refs_file and not is_abs(self.refs_file) and self.data_root:
            self.refs_file = join_path(self.data_root, self.refs_file)

    def load_data_list(self) -> list[dict]:
        self.skip_counts = Counter()
        refs = load_refs(self.refs_file)
        splits = sorted({str(ref['split']) for ref in refs})
        if self.split not in splits:
            raise GroundingAnnotationError(
                f'{self.refs_file}: unknown split {self.split!r}; the splits in this file '
                f'are: {", ".join(splits)}'
            )
        coco = load_coco_instances(self.ann_file)
        refs = [ref for ref in refs if ref['split'] == self.split]
        data_list = []
        for ref in refs:
            data_list.extend(self._load_ref(ref, coco))
        data_list = drop_missing_images(
            data_list,
            missing_images=self.missing_images,
            source=self.ann_file,
            counts=self.skip_counts,
        )
        MMLogger.get_current_instance().info(
            f'{type(self).__name__} ({osp.basename(self.refs_file)}, {self.split}): '
            f'{len(data_list)} sentences of {len(refs)} refs; '
            f'skipped: {dict(sorted(self.skip_counts.items()))}'
        )
        return data_list

    def _load_ref(self, ref: dict, coco: COCO) -> list[dict]:
        """The queries of one ref: one per non-empty sentence."""
        ref_id, ann_id = ref['ref_id'], ref['ann_id']
        where = f'{self.refs_file}: ref {ref_id}'
        ann = coco.anns.get(ann_id)
        if ann is None:
            return self._skip_or_raise(
                'missing_ann', f'{where}: ann_id {ann_id} is not in {self.ann_file}'
            )
        img = coco.imgs.get(ann['image_id'])
        if img is None:
            raise GroundingAnnotationError(
                f'{self.ann_file}: annotation {ann_id} belongs to '
                f'image {ann["image_id"]}, which is not in images'
            )
        if ann['image_id'] != ref['image_id']:
            raise GroundingAnnotationError(
                f'{where}: image {ref["image_id"]}, but annotation {ann_id} of '
                f'{self.ann_file} is on image {ann["image_id"]} (files of different datasets?)'
            )
        category = coco.cats.get(ann['category_id'])
        if category is None:
            raise GroundingAnnotationError(
                f'{self.ann_file}: annotation {ann_id} has category '
                f'{ann["category_id"]}, which is not in categories'
            )
        try:
            x, y, w, h = (float(v) for v in ann['bbox'])
        except (KeyError, TypeError, ValueError) as e:
            raise GroundingAnnotationError(
                f'{self.ann_file}: annotation {ann_id} has no valid bbox'
            ) from e
        box = [x, y, x + w, y + h]  # XYWH -> XYXY
        problem = check_box(box, img['width'], img['height'])
        if problem is not None:
            return self._skip_or_raise(
                'invalid_box', f'{self.ann_file}: annotation {ann_id} (ref {ref_id}): {problem}'
            )
        if not ref['sentences']:
            self.skip_counts['ref_without_sentences'] += 1
            return []

        samples = []
        for index, sentence in enumerate(ref['sentences']):
            try:
                text, sent_id = sentence[self.sentence_key], sentence['sent_id']
            except (KeyError, TypeError) as e:
                raise GroundingAnnotationError(
                    f'{where}: sentence #{index} has no {e} field'
                ) from e
            text = (text or '').strip()
            if not text:
                self.skip_counts['empty_sentence'] += 1
                continue
            samples.append(
                dict(
                    img_path=osp.join(self.data_prefix['img'], img['file_name']),
                    img_id=img['id'],
                    width=img['width'],
                    height=img['height'],
                    caption=text,
                    caption_id=sent_id,
                    phrases=[
                        whole_text_phrase(
                            text, entity_id=str(ref_id), types=[category['name']], box_xyxy=box
                        )
                    ],
                    ref_id=ref_id,
                    ann_id=ann_id,
                    category_id=ann['category_id'],
                )
            )
        return samples
