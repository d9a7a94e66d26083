"""Flickr30k Entities, read from the official annotation files."""

import os.path as osp
import xml.etree.ElementTree as ET
from collections import Counter

from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger

from mmgrounding.registry import DATASETS

from .utils import (
    GroundingAnnotationError,
    check_box,
    check_missing_images,
    drop_missing_images,
    read_split_file,
)

# Entities that have no box to ground against: skipped and counted.
SKIPPED_TYPES = ('notvisual',)
CAPTION_ID_MODES = ('line', 'global')


def caption_id(img_id: str, line: int, *, mode: str = 'line', where: str = '') -> int:
    """The ``caption_id`` of the caption on 0-based ``line`` of image ``img_id``'s sentences.

    ``'line'``: ``line``; ``'global'``: ``int(img_id) * 100 + line``, unique over Flickr30k
    (image ids are integers, each image has five captions).
    """
    if mode == 'line':
        return line
    if not img_id.isdigit() or line >= 100:
        raise GroundingAnnotationError(
            f'{where}: a global caption id needs an integer image id and fewer than 100 '
            f'captions per image (image {img_id!r}, line {line + 1})'
        )
    return int(img_id) * 100 + line


def parse_sentence_line(line: str, *, path: str, line_no: int) -> tuple[str, list[dict]]:
    """Parse one line of a ``Sentences/<id>.txt`` file.

    A phrase is written inline as ``[/EN#<entity_id>/<type>[/<type>...] word ... word]``;
    tokens are separated by whitespace, as in the official ``get_sentence_data``.

    Args:
        line: the annotated caption.
        path: file name, for error messages.
        line_no: 1-based line number, for error messages.

    Returns:
        The plain caption (tokens joined by single spaces) and its phrases, each
        ``dict(text, span=(start, end) character offsets, entity_id, types)``.
    """
    words: list[str] = []
    phrases: list[dict] = []
    current: dict | None = None
    offset = 0  # character offset of the next word in the plain caption

    def add_word(word: str) -> tuple[int, int]:
        nonlocal offset
        if words:
            offset += 1  # the separating space
        start = offset
        words.append(word)
        offset += len(word)
        return start, offset

    for token in line.split():
        if current is None and token.startswith('['):
            parts = token[1:].split('/')
            if len(parts) < 3 or not parts[1].startswith('EN#') or not parts[1][3:].isdigit():
                raise GroundingAnnotationError(
                    f'{path}:{line_no}: malformed phrase opener {token!r} '
                    "(expected '[/EN#<id>/<type>')"
                )
            current = dict(entity_id=parts[1][3:], types=[t for t in parts[2:] if t], words=[])
            continue
        if current is None:
            add_word(token)
            continue
        closes = token.endswith(']')
        word = token[:-1] if closes else token
        if word:
            start, end = add_word(word)
            current.setdefault('start', start)
            current['end'] = end
            current['words'].append(word)
        if closes:
            if not current['words']:
                raise GroundingAnnotationError(
                    f'{path}:{line_no}: empty phrase for entity {current["entity_id"]}'
                )
            phrases.append(
                dict(
                    text=' '.join(current['words']),
                    span=(current['start'], current['end']),
                    entity_id=current['entity_id'],
                    types=current['types'],
                )
            )
            current = None
    if current is not None:
        raise GroundingAnnotationError(
            f"{path}:{line_no}: phrase for entity {current['entity_id']} is not closed with ']'"
        )
    return ' '.join(words), phrases


def parse_annotation_xml(path: str) -> dict:
    """Parse an ``Annotations/<id>.xml`` file.

    Boxes are 1-based inclusive pixel indices in the file; they are converted to continuous
    0-based xyxy coordinates: pixel columns ``xmin..xmax`` (1-based) cover ``[xmin - 1, xmax]``.

    Returns:
        ``dict(width, height, boxes={entity_id: [[x1, y1, x2, y2], ...]}, scene=set,
        nobox=set)``.
    """
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        raise GroundingAnnotationError(f'{path}: malformed XML ({e})') from e
    size = root.find('size')
    try:
        width = int(size.find('width').text)
        height = int(size.find('height').text)
    except (AttributeError, TypeError, ValueError) as e:
        raise GroundingAnnotationError(f'{path}: missing or invalid <size>') from e
    boxes: dict[str, list[list[float]]] = {}
    scene, nobox = set(), set()
    for obj_idx, obj in enumerate(root.findall('object')):
        names = [n.text.strip() for n in obj.findall('name') if n.text]
        if not names:
            raise GroundingAnnotationError(f'{path}: <object> #{obj_idx} has no <name>')
        bndbox = obj.find('bndbox')
        if bndbox is None:
            flag = {
                tag: int((obj.findtext(tag) or '0').strip() or 0) for tag in ('scene', 'nobndbox')
            }
            for name in names:
                if flag['scene'] > 0:
                    scene.add(name)
                if flag['nobndbox'] > 0:
                    nobox.add(name)
            continue
        try:
            xmin, ymin, xmax, ymax = (
                float(bndbox.find(t).text) for t in ('xmin', 'ymin', 'xmax', 'ymax')
            )
        except (AttributeError, TypeError, ValueError) as e:
            raise GroundingAnnotationError(
                f'{path}: <object> #{obj_idx} ({names[0]}) has an invalid <bndbox>'
            ) from e
        box = [xmin - 1, ymin - 1, xmax, ymax]  # 1-based inclusive -> 0-based continuous
        for name in names:
            boxes.setdefault(name, []).append(box)
    return dict(width=width, height=height, boxes=boxes, scene=scene, nobox=nobox)


@DATASETS.register_module()
class Flickr30kEntitiesDataset(BaseDataset):
    """Flickr30k Entities: one sample per (image, caption), all its grounded phrases.

    Expected layout (``data_root`` relative)::

        flickr30k_entities/Annotations/<id>.xml
        flickr30k_entities/Sentences/<id>.txt
        flickr30k_entities/{train,val,test}.txt   # ann_file: one image id per line
        flickr30k-images/<id>.jpg

    Each item of :meth:`load_data_list` is a dict with keys ``img_path``, ``img_id``,
    ``width``, ``height``, ``caption_id`` (see ``caption_ids``), ``caption`` and
    ``phrases``: a list of ``dict(text, span, entity_id, types, boxes_xyxy)`` with
    ``boxes_xyxy`` a list of 0-based continuous ``[x1, y1, x2, y2]``. Entities typed
    ``notvisual`` and entities without any box (marked ``scene`` or ``nobndbox``, or absent
    from the XML) are skipped and counted in the log (``skip_counts``); so are empty caption
    lines and captions left without phrases. An entity that has boxes is grounded against
    them even if another of its ``<object>``s is flagged ``scene`` or ``nobndbox``, as the
    official evaluation does (counted in ``flagged_kept``).

    Args:
        ann_file: the split file, e.g. ``flickr30k_entities/test.txt``. A split without a
            file raises, listing the split files of the folder.
        data_prefix: ``img`` (images), ``annotations`` and ``sentences`` folders.
        skip_invalid_boxes: drop (and count) boxes of zero area or outside the image instead
            of raising. Raising names the file and the entity.
        missing_images: None (not checked at load time; ``LoadImageFromFile`` names the
            file), ``'raise'`` or ``'skip'`` (counted); see
            :func:`~mmgrounding.datasets.utils.drop_missing_images`.
        caption_ids: ``'line'`` (default): ``caption_id`` is the caption's 0-based line in
            its sentence file, unique within an image only; ``'global'``: the integer
            ``int(img_id) * 100 + line``, unique over the dataset, so that the caption caches
            keyed by caption id (InfoGround's negatives and word features) work for Flickr30k
            captions (``tools/dataset_converters/flickr30k_to_coco_captions.py`` writes the
            same ids). Flickr30k has five captions per image; a sentence file of more than
            100 lines raises in ``'global'`` mode.
        **kwargs: passed to :class:`mmengine.dataset.BaseDataset`.
    """

    # box_convention: the XML's boxes are 1-based inclusive pixel indices (the protocols that
    # test against the official code's boxes read it: mmgrounding.evaluation.functional
    # BOX_CONVENTIONS)
    METAINFO = dict(dataset_name='flickr30k_entities', box_convention='pixel_inclusive_1based')

    def __init__(
        self,
        *args,
        data_prefix: dict = dict(
            img='flickr30k-images/',
            annotations='flickr30k_entities/Annotations/',
            sentences='flickr30k_entities/Sentences/',
        ),
        skip_invalid_boxes: bool = True,
        missing_images: str | None = None,
        caption_ids: str = 'line',
        **kwargs,
    ) -> None:
        if caption_ids not in CAPTION_ID_MODES:
            raise ValueError(f'caption_ids must be one of {CAPTION_ID_MODES}, got {caption_ids!r}')
        self.caption_ids = caption_ids
        self.skip_invalid_boxes = skip_invalid_boxes
        self.missing_images = check_missing_images(missing_images)
        self.skip_counts: Counter = Counter()
        self.flagged_kept: Counter = Counter()
        super().__init__(*args, data_prefix=data_prefix, **kwargs)

    def load_data_list(self) -> list[dict]:
        self.skip_counts = Counter()
        self.flagged_kept = Counter()
        data_list = []
        for split_line, img_id in read_split_file(self.ann_file):
            data_list.extend(self._load_image(img_id, split_line))
        data_list = drop_missing_images(
            data_list,
            missing_images=self.missing_images,
            source=self.ann_file,
            counts=self.skip_counts,
        )
        total_phrases = sum(len(d['phrases']) for d in data_list)
        MMLogger.get_current_instance().info(
            f'{type(self).__name__} ({osp.basename(self.ann_file)}): {len(data_list)} captions, '
            f'{total_phrases} phrases; skipped: {dict(sorted(self.skip_counts.items()))}; '
            'grounded against their boxes although flagged: '
            f'{dict(sorted(self.flagged_kept.items()))}'
        )
        return data_list

    def _load_image(self, img_id: str, split_line: int) -> list[dict]:
        xml_path = osp.join(self.data_prefix['annotations'], f'{img_id}.xml')
        txt_path = osp.join(self.data_prefix['sentences'], f'{img_id}.txt')
        for path in (xml_path, txt_path):
            if not osp.isfile(path):
                raise FileNotFoundError(
                    f'{path} is missing (image {img_id}, line {split_line} of {self.ann_file})'
                )
        ann = parse_annotation_xml(xml_path)
        with open(txt_path, encoding='utf-8') as f:
            lines = f.read().split('\n')
        if lines and not lines[-1].strip():
            lines.pop()  # the final newline
        samples = []
        for line_no, line in enumerate(lines, start=1):
            if not line.strip():
                self.skip_counts['empty_caption'] += 1
                continue
            caption, phrases = parse_sentence_line(line, path=txt_path, line_no=line_no)
            kept = [p for p in phrases if self._attach_boxes(p, ann, xml_path)]
            if not kept:
                self.skip_counts['caption_without_boxes'] += 1
                continue
            samples.append(
                dict(
                    img_path=osp.join(self.data_prefix['img'], f'{img_id}.jpg'),
                    img_id=img_id,
                    width=ann['width'],
                    height=ann['height'],
                    caption_id=caption_id(
                        img_id, line_no - 1, mode=self.caption_ids, where=f'{txt_path}:{line_no}'
                    ),
                    caption=caption,
                    phrases=kept,
                )
            )
        return samples

    def _attach_boxes(self, phrase: dict, ann: dict, xml_path: str) -> bool:
        """Give ``phrase`` its boxes; False (and a count) when it has none to ground.

        As the official evaluations (which ground every phrase whose entity id is among the
        XML's boxes, e.g. ``phrase_id in anno['boxes']``), an entity flagged ``<scene>1`` or
        ``<nobndbox>1</nobndbox>`` by one ``<object>`` but given boxes by another is grounded
        against those boxes; it is counted under ``flagged_kept``.
        """
        entity = phrase['entity_id']
        if any(t in SKIPPED_TYPES for t in phrase['types']) or entity == '0':
            self.skip_counts['notvisual'] += 1
            return False
        if entity not in ann['boxes']:
            self.skip_counts['scene' if entity in ann['scene'] else 'nobndbox'] += 1
            return False
        boxes = []
        for box in ann['boxes'][entity]:
            problem = check_box(box, ann['width'], ann['height'])
            if problem is None:
                boxes.append(box)
            elif self.skip_invalid_boxes:
                self.skip_counts['invalid_box'] += 1
            else:
                raise GroundingAnnotationError(f'{xml_path}: entity {entity}: {problem}')
        if not boxes:
            self.skip_counts['nobndbox'] += 1
            return False
        for flag, flagged in (('scene', ann['scene']), ('nobndbox', ann['nobox'])):
            if entity in flagged:
                self.flagged_kept[flag] += 1
        phrase['boxes_xyxy'] = boxes
        return True
