"""Image–caption pairs for weak supervision: COCO captions and Flickr30k captions.

No boxes are used for training: every item has ``phrases=[]``. Evaluation data with boxes
comes from the grounding datasets (Flickr30k Entities, RefCOCO).
"""
import os.path as osp
from collections import Counter

from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger

from mmgrounding.registry import DATASETS

from .flickr30k_entities import parse_sentence_line
from .utils import (
    GroundingAnnotationError,
    check_missing_images,
    drop_missing_images,
    load_json_file,
    read_split_file,
)


class BaseCaptionsDataset(BaseDataset):
    """Shared item layout of the caption datasets.

    With ``group_by_image=False`` each item is one caption: ``img_path``, ``img_id``,
    ``width``, ``height``, ``caption_id``, ``caption`` and ``phrases=[]``. With
    ``group_by_image=True`` each item is one image with all of its captions: ``captions``
    and ``caption_ids`` (lists, file order) instead of ``caption`` and ``caption_id``.
    Captions are whitespace-normalised; empty ones are skipped and counted in
    ``skip_counts``, as are images left without captions.

    Args:
        group_by_image: one item per image instead of one per caption.
        missing_images: None (not checked at load time; ``LoadImageFromFile`` names the
            file), ``'raise'`` or ``'skip'`` (counted); see
            :func:`~mmgrounding.datasets.utils.drop_missing_images`.
        **kwargs: passed to :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(self,
                 *args,
                 group_by_image: bool = False,
                 missing_images: str | None = None,
                 **kwargs) -> None:
        self.group_by_image = group_by_image
        self.missing_images = check_missing_images(missing_images)
        self.skip_counts: Counter = Counter()
        super().__init__(*args, **kwargs)

    def _items(self, image: dict, captions: list[tuple[object, str]]) -> list[dict]:
        """Items of one image; ``image`` has img_path, img_id, width, height."""
        if not captions:
            self.skip_counts['image_without_captions'] += 1
            return []
        if self.group_by_image:
            return [dict(image, caption_ids=[c[0] for c in captions],
                         captions=[c[1] for c in captions], phrases=[])]
        return [dict(image, caption_id=caption_id, caption=caption, phrases=[])
                for caption_id, caption in captions]

    def _finish(self, data_list: list[dict]) -> list[dict]:
        """Apply ``missing_images`` and log the counts."""
        data_list = drop_missing_images(data_list, missing_images=self.missing_images,
                                        source=self.ann_file, counts=self.skip_counts)
        captions = sum(len(d['captions']) if 'captions' in d else 1 for d in data_list)
        MMLogger.get_current_instance().info(
            f'{type(self).__name__} ({osp.basename(self.ann_file)}): {len(data_list)} items, '
            f'{captions} captions; skipped: {dict(sorted(self.skip_counts.items()))}')
        return data_list


@DATASETS.register_module()
class CocoCaptionsDataset(BaseCaptionsDataset):
    """COCO captions (``captions_<split>.json``): image–caption pairs.

    Expected layout (``data_root`` relative)::

        annotations/captions_train2014.json   # ann_file: {images, annotations}
        train2014/COCO_train2014_000000000009.jpg

    Items are as in :class:`BaseCaptionsDataset`, ``img_id`` the COCO image id and
    ``caption_id`` the annotation id; images come in the order of ``images``, captions in
    the order of ``annotations``. An annotation whose ``image_id`` is not in ``images``
    raises an error naming the file and the annotation.

    Args:
        ann_file: the captions JSON file.
        data_prefix: ``img``, the image folder.
        group_by_image: one item per image with all of its captions.
        **kwargs: passed to :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = dict(dataset_name='coco_captions')

    def __init__(self, *args, data_prefix: dict = dict(img=''), **kwargs) -> None:
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> list[dict]:
        self.skip_counts = Counter()
        path = self.ann_file
        data = load_json_file(path, what='captions file')
        if not isinstance(data, dict) or not {'images', 'annotations'} <= set(data):
            raise GroundingAnnotationError(f"{path}: needs 'images' and 'annotations' lists")
        images = {}
        for index, image in enumerate(data['images']):
            try:
                images[image['id']] = dict(
                    img_path=osp.join(self.data_prefix['img'], image['file_name']),
                    img_id=image['id'], width=image.get('width'), height=image.get('height'))
            except (KeyError, TypeError) as e:
                raise GroundingAnnotationError(
                    f'{path}: images[{index}] needs an id and a file_name') from e
        captions: dict = {image_id: [] for image_id in images}
        for index, ann in enumerate(data['annotations']):
            image_id = ann.get('image_id')
            if image_id not in images:
                raise GroundingAnnotationError(
                    f"{path}: annotations[{index}] (id {ann.get('id')}): image {image_id} "
                    "has no entry in 'images'")
            caption = ' '.join(str(ann.get('caption') or '').split())
            if not caption:
                self.skip_counts['empty_caption'] += 1
                continue
            captions[image_id].append((ann.get('id', index), caption))
        data_list = []
        for image_id, image in images.items():
            data_list.extend(self._items(image, captions[image_id]))
        return self._finish(data_list)


@DATASETS.register_module()
class Flickr30kCaptionsDataset(BaseCaptionsDataset):
    """Flickr30k captions read from the Flickr30k Entities sentence files.

    Expected layout (``data_root`` relative)::

        flickr30k_entities/Sentences/<id>.txt   # [/EN#..] markup is stripped
        flickr30k_entities/{train,val,test}.txt # ann_file: one image id per line
        flickr30k-images/<id>.jpg

    Items are as in :class:`BaseCaptionsDataset`, ``img_id`` the Flickr id (a string) and
    ``caption_id`` the line index in the sentence file, as in
    :class:`~mmgrounding.datasets.Flickr30kEntitiesDataset`. ``width`` and ``height`` are
    None: the sentence files carry no image size (``LoadImageFromFile`` sets the shapes).
    A split id without a sentence file raises an error naming both files.

    Args:
        ann_file: the split file, e.g. ``flickr30k_entities/train.txt``.
        data_prefix: ``img`` and ``sentences`` folders.
        group_by_image: one item per image with all of its captions.
        **kwargs: passed to :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO = dict(dataset_name='flickr30k_captions')

    def __init__(self,
                 *args,
                 data_prefix: dict = dict(
                     img='flickr30k-images/', sentences='flickr30k_entities/Sentences/'),
                 **kwargs) -> None:
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> list[dict]:
        self.skip_counts = Counter()
        data_list = []
        for split_line, img_id in read_split_file(self.ann_file):
            path = osp.join(self.data_prefix['sentences'], f'{img_id}.txt')
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'{path} is missing (image {img_id}, line {split_line} of {self.ann_file})')
            with open(path, encoding='utf-8') as f:
                lines = f.read().split('\n')
            if lines and not lines[-1].strip():
                lines.pop()  # the final newline
            captions = []
            for line_no, line in enumerate(lines, start=1):
                caption = parse_sentence_line(line, path=path, line_no=line_no)[0]
                if not caption:
                    self.skip_counts['empty_caption'] += 1
                    continue
                captions.append((line_no - 1, caption))
            image = dict(img_path=osp.join(self.data_prefix['img'], f'{img_id}.jpg'),
                         img_id=img_id, width=None, height=None)
            data_list.extend(self._items(image, captions))
        return self._finish(data_list)
