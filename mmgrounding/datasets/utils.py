"""Checks and readers shared by the dataset loaders."""

import json
import os
import os.path as osp
from collections import Counter

from mmengine.fileio import exists, get_local_path
from mmengine.logging import MMLogger

# What a loader does about an item whose image file does not exist (``missing_images``).
MISSING_IMAGES = (None, 'raise', 'skip')


class GroundingAnnotationError(ValueError):
    """An annotation file is malformed; the message names the file and the record."""


class SkipOrRaiseMixin:
    """A loader's rule for a record it cannot use: skip and count it in ``skip_counts``
    (``skip_invalid_boxes=True``) or raise :class:`GroundingAnnotationError`."""

    skip_invalid_boxes: bool
    skip_counts: Counter

    def _skip_or_raise(self, reason: str, message: str) -> list:
        if not self.skip_invalid_boxes:
            raise GroundingAnnotationError(message)
        self.skip_counts[reason] += 1
        return []


def whole_text_phrase(text: str, *, entity_id: str, types: list, box_xyxy) -> dict:
    """The one phrase of a referring expression (or a prompt): all of ``text``, in one box.

    Args:
        box_xyxy: the box, continuous XYXY pixels.
    """
    return dict(
        text=text,
        span=(0, len(text)),
        entity_id=entity_id,
        types=types,
        boxes_xyxy=[list(box_xyxy)],
    )


def check_box(box_xyxy: list[float], width: int, height: int, *, tol: float = 1.0) -> str | None:
    """Describe what is wrong with a box, or return None when it is usable.

    Args:
        box_xyxy: ``[x1, y1, x2, y2]`` in continuous pixel coordinates.
        width: image width in pixels.
        height: image height in pixels.
        tol: how far (pixels) a box may reach past the border, as annotation tools round.
    """
    x1, y1, x2, y2 = box_xyxy
    if not all(v == v for v in box_xyxy):  # NaN
        return f'box {box_xyxy} has NaN coordinates'
    if x2 <= x1 or y2 <= y1:
        return f'box {box_xyxy} has zero or negative area'
    if x1 < -tol or y1 < -tol or x2 > width + tol or y2 > height + tol:
        return f'box {box_xyxy} lies outside the {width}x{height} image'
    return None


def missing_file_error(path: str, *, what: str = 'file') -> FileNotFoundError:
    """The error for an annotation file that does not exist.

    A split is chosen by its file (``test.txt``, ``referit_query_test.json``,
    ``captions_val2014.json``), so a misspelt split name lands here: the message lists the
    files of the same kind that the folder does hold.
    """
    folder, ext = osp.dirname(path), osp.splitext(path)[1]
    message = f'{what} {path} does not exist'
    if osp.isdir(folder or '.'):
        siblings = sorted(n for n in os.listdir(folder or '.') if n.endswith(ext))[:20]
        if siblings:
            message += f'; {folder or "."} holds: {", ".join(siblings)}'
    return FileNotFoundError(message)


def read_split_file(path: str) -> list[tuple[int, str]]:
    """``(line number, image id)`` of each non-blank line of a split file (1-based).

    Raises:
        FileNotFoundError: the file does not exist (the message lists the other split files).
    """
    with get_local_path(path) as local_path:
        if not osp.isfile(local_path):
            raise missing_file_error(path, what='split file')
        with open(local_path, encoding='utf-8') as f:
            return [(n, line.strip()) for n, line in enumerate(f, start=1) if line.strip()]


def load_json_file(path: str, *, what: str = 'file') -> object:
    """Parse a JSON file; ``what`` names it in errors (``'instances file'``).

    Raises:
        FileNotFoundError: the file does not exist.
        GroundingAnnotationError: the file is not valid JSON (e.g. truncated).
    """
    with get_local_path(path) as local_path:
        if not osp.isfile(local_path):
            raise missing_file_error(path, what=what)
        try:
            with open(local_path, encoding='utf-8') as f:
                return json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise GroundingAnnotationError(f'{path}: malformed or truncated JSON ({e})') from e


def check_missing_images(missing_images: str | None) -> str | None:
    """Validate a ``missing_images`` option (one of :data:`MISSING_IMAGES`)."""
    if missing_images not in MISSING_IMAGES:
        raise ValueError(f"missing_images must be None, 'raise' or 'skip', got {missing_images!r}")
    return missing_images


def drop_missing_images(
    data_list: list[dict], *, missing_images: str | None, source: str, counts: Counter
) -> list[dict]:
    """Apply a loader's ``missing_images`` option to its data list.

    Args:
        data_list: items with ``img_path`` and ``img_id``.
        missing_images: None: nothing is checked here (``LoadImageFromFile`` raises, naming
            the file, when the item is read); ``'raise'``: a
            :class:`GroundingAnnotationError` naming the image file and the record (image id
            and annotation file); ``'skip'``: the items of missing images are dropped,
            counted as ``counts['missing_image']`` (one per item) and logged with the first
            missing file.
        source: the annotation file that lists the images, for messages.
        counts: the loader's skip counter.

    Returns:
        The items whose image file exists (all of them when ``missing_images`` is None).
    """
    if missing_images is None:
        return data_list
    found: dict[str, bool] = {}  # img_path -> exists, one look-up per image
    kept, missing = [], []
    for item in data_list:
        path = item['img_path']
        if path not in found:
            found[path] = exists(path)
            if not found[path]:
                message = f'{source}: image {item["img_id"]}: image file {path} does not exist'
                if missing_images == 'raise':
                    raise GroundingAnnotationError(message)
                missing.append(message)
        if found[path]:
            kept.append(item)
        else:
            counts['missing_image'] += 1
    if missing:
        MMLogger.get_current_instance().warning(
            f'{len(missing)} missing images, {len(data_list) - len(kept)} items skipped; '
            f'first: {missing[0]}'
        )
    return kept
