"""Augmentations that keep a grounding sample's image, boxes and text in agreement.

What mmcv/mmdet already do right is used as is (see ``docs/transforms.md``): ``Resize``
(boxes follow), ``RandomGrayscale`` (image only). What is added here:

- :class:`RandomFlipWithText`: mmdet's ``RandomFlip`` also swaps "left" and "right" in the
  caption and the phrases, and moves the phrase spans when word lengths change.
- :class:`GroundingColorJitter`: brightness, contrast, saturation and hue jitter without
  mmdet ``PhotoMetricDistortion``'s random channel swap, which turns a "red circle" blue.
"""
import re
from collections.abc import Sequence

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmdet.datasets.transforms import RandomFlip

from mmgrounding.registry import TRANSFORMS

# Words that a horizontal flip turns into their mirror word; both directions are listed.
LEFT_RIGHT_WORDS = {
    'left': 'right', 'right': 'left',
    'leftmost': 'rightmost', 'rightmost': 'leftmost',
    'lefthand': 'righthand', 'righthand': 'lefthand',
    'leftward': 'rightward', 'rightward': 'leftward',
    'leftwards': 'rightwards', 'rightwards': 'leftwards',
}
# Whole words only, so "bright" and "leftover" stay; "left-hand" becomes "right-hand".
_LEFT_RIGHT_RE = re.compile(
    r'\b(' + '|'.join(sorted(LEFT_RIGHT_WORDS, key=len, reverse=True)) + r')\b', re.IGNORECASE)

# One replacement: (start, end) of the old word in the old text, and new minus old length.
Edit = tuple[int, int, int]


def _match_case(word: str, like: str) -> str:
    if like.isupper():
        return word.upper()
    if like[:1].isupper():
        return word.capitalize()
    return word


def swap_left_right(text: str) -> tuple[str, list[Edit]]:
    """Swap "left" and "right" (and "leftmost", "lefthand", ...) in ``text``.

    Case is kept ("Left" -> "Right"). Like any word-level rule it also swaps the verb
    ("he left"); grounding captions rarely use it.

    Returns:
        The new text and the edits, ``(start, end, length change)`` in old-text offsets, to
        move spans with :func:`shift_span`. ``'the left dog'`` gives
        ``('the right dog', [(4, 8, 1)])``.
    """
    pieces, edits, last = [], [], 0
    for match in _LEFT_RIGHT_RE.finditer(text):
        old = match.group(0)
        new = _match_case(LEFT_RIGHT_WORDS[old.lower()], old)
        pieces += [text[last:match.start()], new]
        edits.append((match.start(), match.end(), len(new) - len(old)))
        last = match.end()
    pieces.append(text[last:])
    return ''.join(pieces), edits


def shift_span(span: Sequence[int], edits: Sequence[Edit]) -> tuple[int, int]:
    """Move a ``(start, end)`` character span of the old text into the new text.

    An offset moves by the length change of every replaced word that ends at or before it,
    so a span that starts at a replaced word keeps it and a span that ends with one grows
    or shrinks with it. ``(-1, -1)`` (no span) is returned unchanged.
    """
    start, end = span
    if start < 0:
        return tuple(span)
    return (start + sum(d for _, e, d in edits if e <= start),
            end + sum(d for _, e, d in edits if e <= end))


def swap_text_left_right(results: dict) -> None:
    """Apply :func:`swap_left_right` to every text field of a pipeline's results.

    Updates ``caption`` (and the spans in ``phrases`` and ``phrase_spans`` with it),
    ``phrases`` (dicts with ``text``/``span``, replaced by new dicts so that the dataset's
    own records stay untouched), ``phrase_texts`` and ``captions`` (a list, from datasets
    grouped by image).
    """
    edits: list[Edit] = []
    if isinstance(results.get('caption'), str):
        results['caption'], edits = swap_left_right(results['caption'])
    if results.get('captions') is not None:
        results['captions'] = [swap_left_right(c)[0] for c in results['captions']]
    if results.get('phrases') is not None:
        phrases = []
        for phrase in results['phrases']:
            if isinstance(phrase, str):
                phrases.append(swap_left_right(phrase)[0])
                continue
            phrase = dict(phrase, text=swap_left_right(phrase['text'])[0])
            if 'span' in phrase:
                phrase['span'] = shift_span(phrase['span'], edits)
            phrases.append(phrase)
        results['phrases'] = phrases
    if results.get('phrase_texts') is not None:
        results['phrase_texts'] = [swap_left_right(t)[0] for t in results['phrase_texts']]
    if results.get('phrase_spans') is not None:
        results['phrase_spans'] = [shift_span(s, edits) for s in results['phrase_spans']]


@TRANSFORMS.register_module()
class RandomFlipWithText(RandomFlip):
    """Horizontal flip of image, boxes, masks and segmentation map, and of the text.

    mmdet's ``RandomFlip`` flips ``img``, ``gt_bboxes``, ``gt_masks`` and ``gt_seg_map``;
    this transform then swaps "left"/"right" (see :func:`swap_text_left_right`) in
    ``caption``, ``captions``, ``phrases``, ``phrase_texts`` and ``phrase_spans``. Place it
    after ``LoadGroundingAnnotations``: the boxes it flips are ``gt_bboxes``, not the
    ``boxes_xyxy`` of the data-list phrases.

    Only horizontal flips are offered: a vertical flip would have to swap "top"/"bottom",
    "above"/"below", "over"/"under" and more, and "on top of" has no clean mirror.

    Args:
        prob: flip probability.
        direction: ``'horizontal'``.
    """

    def __init__(self, *, prob: float = 0.5, direction: str = 'horizontal') -> None:
        if direction != 'horizontal':
            raise ValueError(f"{type(self).__name__} flips horizontally only, got {direction!r}")
        super().__init__(prob=prob, direction=direction)

    def _flip(self, results: dict) -> None:
        super()._flip(results)
        swap_text_left_right(results)


def _shift_hue(img: np.ndarray, hue: float) -> np.ndarray:
    """Rotate the hue of a BGR image by ``hue`` turns (-0.5..0.5), keeping its dtype.

    mmcv's ``adjust_hue`` does the same but fails for negative shifts under numpy 2
    (``np.uint8`` of a negative number).
    """
    dtype = img.dtype
    hsv = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_BGR2HSV_FULL)
    # hue in 0..255 covers the full circle (HSV_FULL)
    hsv[..., 0] = (hsv[..., 0].astype(np.int16) + int(round(hue * 256))) % 256
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL).astype(dtype)


@TRANSFORMS.register_module()
class GroundingColorJitter(BaseTransform):
    """Random brightness, contrast, saturation and hue of the image, in random order.

    As torchvision's ``ColorJitter``: each factor is drawn uniformly from
    ``[max(0, 1 - v), 1 + v]`` (hue: a shift in ``[-hue, hue]`` turns of the colour circle),
    with mmcv's ``adjust_brightness``/``adjust_contrast``/``adjust_color``. Randomness
    comes from numpy's global generator (seeded by the runner, as in mmcv's transforms).
    Unlike mmdet's ``PhotoMetricDistortion`` there is no channel swap, the values stay in
    0..255 and the dtype is kept. Keep ``hue`` small (default 0) when captions name
    colours. Only the image changes; boxes and text are untouched. A single-channel image
    gets brightness only.

    Args:
        brightness: brightness jitter strength.
        contrast: contrast jitter strength.
        saturation: saturation jitter strength.
        hue: largest hue shift, in turns, at most 0.5.
        prob: probability of jittering a sample at all.
    """

    def __init__(self,
                 *,
                 brightness: float = 0.4,
                 contrast: float = 0.4,
                 saturation: float = 0.4,
                 hue: float = 0.0,
                 prob: float = 0.8) -> None:
        if min(brightness, contrast, saturation, hue) < 0 or hue > 0.5:
            raise ValueError('jitter strengths must be >= 0 and hue <= 0.5')
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
        self.prob = prob

    @cache_randomness
    def _sample(self) -> list[tuple[str, float]] | None:
        """The operations to apply, in order, with their factors; None for no jitter."""
        if np.random.rand() >= self.prob:
            return None
        ops = [
            ('brightness', np.random.uniform(max(0., 1 - self.brightness), 1 + self.brightness)),
            ('contrast', np.random.uniform(max(0., 1 - self.contrast), 1 + self.contrast)),
            ('saturation', np.random.uniform(max(0., 1 - self.saturation), 1 + self.saturation)),
            ('hue', np.random.uniform(-self.hue, self.hue)),
        ]
        return [ops[i] for i in np.random.permutation(len(ops))]

    def transform(self, results: dict) -> dict:
        ops = self._sample()
        if ops is None:
            return results
        img = results['img']
        colour = img.ndim == 3 and img.shape[2] == 3
        for name, factor in ops:
            if name == 'brightness':
                img = mmcv.adjust_brightness(img, factor, backend='cv2')
            elif not colour:
                continue
            elif name == 'contrast':
                img = mmcv.adjust_contrast(img, factor, backend='cv2')
            elif name == 'saturation':
                img = mmcv.adjust_color(img, factor, backend='cv2')
            elif factor != 0:
                img = _shift_hue(img, factor)
        results['img'] = img
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}, '
                f'saturation={self.saturation}, hue={self.hue}, prob={self.prob})')
