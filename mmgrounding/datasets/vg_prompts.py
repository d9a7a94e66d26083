"""AMC's Visual Genome prompts: (text, box) triplets from one image's objects and regions.

Object + attribute prompts ("a brown dog"), spatial prompts for names that occur several
times ("dog on the left", "top dog", "top left dog"), region descriptions; boxes below a share
of the image area are dropped.
"""
from collections import Counter, defaultdict
from collections.abc import Sequence

SOURCES = ('objects', 'regions')


def _article(word: str) -> str:
    return 'an' if word[:1] in 'aeiou' else 'a'


def object_prompts(objects: Sequence[dict], *, max_attributes: int = 1) -> list[dict]:
    """One prompt per object: article, up to ``max_attributes`` attributes, name.

    ``dict(name='dog', attributes=['brown', 'furry'])`` gives ``'a brown dog'``; without
    attributes ``'a dog'``; ``'an orange oval'``. Attributes already in the name are skipped
    (name ``'white clouds'`` with attribute ``'white'`` gives ``'a white clouds'``).

    Args:
        objects: ``dict(object_id, name, attributes, box_xyxy)``; names and attributes
            lower-case and stripped.
        max_attributes: how many of the object's attributes (in file order) go in the prompt.

    Returns:
        ``dict(text, box_xyxy, ref_id=object_id, prompt_type='object')`` in object order.
    """
    prompts = []
    for obj in objects:
        name_words = set(obj['name'].split())
        attributes = []
        for attribute in obj.get('attributes', []):
            if len(attributes) == max_attributes:
                break
            if attribute and attribute not in attributes and attribute not in name_words:
                attributes.append(attribute)
        words = ' '.join(attributes + [obj['name']])
        prompts.append(
            dict(text=f'{_article(words)} {words}', box_xyxy=obj['box_xyxy'],
                 ref_id=obj['object_id'], prompt_type='object'))
    return prompts


def _corner(cx: float, cy: float, width: float, height: float) -> str | None:
    """``'top left'`` etc. when (cx, cy) lies in a corner cell of a 3x3 grid, else None."""
    horizontal = 'left' if cx < width / 3 else 'right' if cx > 2 * width / 3 else None
    vertical = 'top' if cy < height / 3 else 'bottom' if cy > 2 * height / 3 else None
    return f'{vertical} {horizontal}' if horizontal and vertical else None


def spatial_prompts(objects: Sequence[dict], *, width: float, height: float) -> list[dict]:
    """Prompts that tell apart objects sharing a name, by position of the box centre.

    For every name with two or more objects:

    - the object with the strictly smallest centre x gives ``'<name> on the left'``, the
      strictly largest ``'<name> on the right'`` (ties give no prompt);
    - strictly smallest centre y gives ``'top <name>'``, strictly largest ``'bottom <name>'``;
    - a centre in a corner cell of the image's 3x3 grid gives ``'top left <name>'`` (or
      ``top right``, ``bottom left``, ``bottom right``) when no other object of that name
      has its centre in the same cell.

    Args:
        objects: ``dict(object_id, name, box_xyxy)`` of all the image's valid objects;
            include the ones whose prompts are later dropped as small, so that "left" is
            judged against every instance.
        width: image width in pixels.
        height: image height in pixels.

    Returns:
        ``dict(text, box_xyxy, ref_id=object_id, prompt_type='spatial')``, grouped by name in
        order of first appearance, then in the rule order above.
    """
    by_name: dict[str, list[dict]] = defaultdict(list)
    for obj in objects:
        by_name[obj['name']].append(obj)
    prompts = []

    def add(obj: dict, text: str) -> None:
        prompts.append(dict(text=text, box_xyxy=obj['box_xyxy'], ref_id=obj['object_id'],
                            prompt_type='spatial'))

    for name, group in by_name.items():
        if len(group) < 2:
            continue
        centres = [((x1 + x2) / 2, (y1 + y2) / 2) for x1, y1, x2, y2 in
                   (o['box_xyxy'] for o in group)]
        for axis, pick, template in ((0, min, '{} on the left'), (0, max, '{} on the right'),
                                     (1, min, 'top {}'), (1, max, 'bottom {}')):
            values = [c[axis] for c in centres]
            extreme = pick(values)
            if values.count(extreme) == 1:
                add(group[values.index(extreme)], template.format(name))
        cells = [_corner(cx, cy, width, height) for cx, cy in centres]
        cell_counts = Counter(cells)
        for obj, cell in zip(group, cells):
            if cell is not None and cell_counts[cell] == 1:
                add(obj, f'{cell} {name}')
    return prompts


def region_prompts(regions: Sequence[dict]) -> list[dict]:
    """The region description is the prompt, its box the region box.

    Args:
        regions: ``dict(region_id, phrase, box_xyxy)`` with non-empty, whitespace-normalised
            phrases.

    Returns:
        ``dict(text, box_xyxy, ref_id=region_id, prompt_type='region')`` in region order.
    """
    return [
        dict(text=r['phrase'], box_xyxy=r['box_xyxy'], ref_id=r['region_id'],
             prompt_type='region') for r in regions
    ]


def box_area_frac(box_xyxy: Sequence[float], width: float, height: float) -> float:
    """Box area as a fraction of the image area."""
    x1, y1, x2, y2 = box_xyxy
    return (x2 - x1) * (y2 - y1) / (width * height)


def image_triplets(objects: Sequence[dict],
                   regions: Sequence[dict],
                   *,
                   width: float,
                   height: float,
                   sources: Sequence[str] = SOURCES,
                   min_box_area_frac: float = 0.08,
                   max_attributes: int = 1,
                   spatial: bool = True,
                   counts: Counter | None = None) -> list[dict]:
    """All triplets of one image: object and spatial prompts, then region prompts.

    Objects and regions whose box covers less than ``min_box_area_frac`` of the image are
    dropped (and counted as ``small_object_boxes`` / ``small_region_boxes``); spatial
    prompts are still judged against every object of a name, small ones included.

    Returns:
        ``dict(text, box_xyxy, ref_id, prompt_type, source)`` with ``source`` in ``sources``.
    """
    counts = Counter() if counts is None else counts
    triplets = []
    if 'objects' in sources:
        kept = [o for o in objects
                if box_area_frac(o['box_xyxy'], width, height) >= min_box_area_frac]
        counts['small_object_boxes'] += len(objects) - len(kept)
        prompts = object_prompts(kept, max_attributes=max_attributes)
        if spatial:
            kept_ids = {o['object_id'] for o in kept}
            prompts += [p for p in spatial_prompts(objects, width=width, height=height)
                        if p['ref_id'] in kept_ids]
        triplets += [dict(p, source='objects') for p in prompts]
    if 'regions' in sources:
        kept = [r for r in regions
                if box_area_frac(r['box_xyxy'], width, height) >= min_box_area_frac]
        counts['small_region_boxes'] += len(regions) - len(kept)
        triplets += [dict(p, source='regions') for p in region_prompts(kept)]
    return triplets


# ----------------------------------------------------------------------------- reading
