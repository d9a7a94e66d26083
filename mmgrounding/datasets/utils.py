"""Checks and readers shared by the dataset loaders."""
import json
import os.path as osp

from mmengine.fileio import get_local_path


class GroundingAnnotationError(ValueError):
    """An annotation file is malformed; the message names the file and the record."""


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


def load_json_file(path: str, *, what: str = 'file') -> object:
    """Parse a JSON file; ``what`` names it in errors (``'instances file'``).

    Raises:
        FileNotFoundError: the file does not exist.
        GroundingAnnotationError: the file is not valid JSON (e.g. truncated).
    """
    with get_local_path(path) as local_path:
        if not osp.isfile(local_path):
            raise FileNotFoundError(f'{what} {path} does not exist')
        try:
            with open(local_path, encoding='utf-8') as f:
                return json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise GroundingAnnotationError(f'{path}: malformed or truncated JSON ({e})') from e
