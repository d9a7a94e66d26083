"""Checks shared by the dataset loaders."""


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
