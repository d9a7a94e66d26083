"""Augmentations keep image, boxes, masks and text consistent."""
import copy

import numpy as np
import pytest
from mmdet.structures.mask import BitmapMasks
from mmengine.dataset import Compose

from mmgrounding.datasets.transforms.augment import (
    GroundingColorJitter,
    RandomFlipWithText,
    _shift_hue,
    shift_span,
    swap_left_right,
)
from mmgrounding.registry import TRANSFORMS

#            0         1         2         3         4         5
#            012345678901234567890123456789012345678901234567890123
CAPTION = 'the dog on the left is left of the rightmost cat .'
# phrases: 'the dog on the left' (0, 19), 'the rightmost cat' (31, 48)
DOG_BOX = [10., 20., 30., 40.]  # x 10..30 of a 100-px-wide image
CAT_BOX = [70., 6., 96., 26.]  # even coordinates: exact after a 2x / 0.5x resize


def make_results():
    img = np.zeros((60, 100, 3), np.uint8)
    x1, y1, x2, y2 = (int(v) for v in DOG_BOX)
    img[y1:y2, x1:x2] = (255, 0, 0)  # blue dog
    x1, y1, x2, y2 = (int(v) for v in CAT_BOX)
    img[y1:y2, x1:x2] = (0, 0, 255)  # red cat
    return dict(
        img=img, img_shape=(60, 100), ori_shape=(60, 100), img_id='1', img_path='1.jpg',
        caption=CAPTION, caption_id=0,
        phrases=[
            dict(text='the dog on the left', span=(0, 19), types=['animals'],
                 boxes_xyxy=[DOG_BOX]),
            dict(text='the rightmost cat', span=(31, 48), types=['animals'],
                 boxes_xyxy=[CAT_BOX]),
        ])


def drawn_mask(img, colour):
    return np.all(img == np.asarray(colour, img.dtype), axis=-1)


def test_swap_left_right_words_case_and_edits():
    text, edits = swap_left_right('Left of the leftmost, RIGHT-hand cart; bright leftover')
    assert text == 'Right of the rightmost, LEFT-hand cart; bright leftover'
    # 'Left' (0..4) grows by 1, 'leftmost' (12..20) by 1, 'RIGHT' (22..27) shrinks by 1
    assert edits == [(0, 4, 1), (12, 20, 1), (22, 27, -1)]
    assert swap_left_right('no mirror words')[1] == []


def test_shift_span_moves_spans_after_changed_words():
    old = 'a cat left of a dog right of a hat'
    new, edits = swap_left_right(old)
    assert new == 'a cat right of a dog left of a hat'
    for phrase in ('a cat', 'a dog', 'a hat', 'a cat left', 'dog right of a hat'):
        start = old.index(phrase)
        new_start, new_end = shift_span((start, start + len(phrase)), edits)
        assert new[new_start:new_end] == swap_left_right(phrase)[0]
    assert shift_span((-1, -1), edits) == (-1, -1)


def test_flip_swaps_text_and_keeps_boxes_on_drawn_pixels():
    results = make_results()
    original_phrases = copy.deepcopy(results['phrases'])
    pipeline = Compose([dict(type='LoadGroundingAnnotations'),
                        dict(type='RandomFlipWithText', prob=1.0)])
    data_phrases = results['phrases']
    out = pipeline(results)
    assert out['flip'] and out['flip_direction'] == 'horizontal'
    # 'left' -> 'right' (+1) at 15..19 and 23..27, 'rightmost' -> 'leftmost' (-1) at 35..44:
    # span (0, 19) ends after the first -> (0, 20); (31, 48) starts after both 'left's (+2)
    # and ends after all three (+2 - 1) -> (33, 49)
    assert out['caption'] == 'the dog on the right is right of the leftmost cat .'
    assert out['phrase_texts'] == ['the dog on the right', 'the leftmost cat']
    assert out['phrase_spans'] == [(0, 20), (33, 49)]
    for text, (start, end) in zip(out['phrase_texts'], out['phrase_spans']):
        assert out['caption'][start:end] == text
    for phrase in out['phrases']:
        start, end = phrase['span']
        assert out['caption'][start:end] == phrase['text']
    # the dataset's own phrase records are not modified
    assert data_phrases == original_phrases
    # boxes: x -> 100 - x; each flipped box covers exactly its drawn pixels
    boxes = out['gt_bboxes'].tensor.numpy()
    assert boxes.tolist() == [[70., 20., 90., 40.], [4., 6., 30., 26.]]
    assert out['gt_bboxes_labels'].tolist() == [0, 1]
    for box, colour in zip(boxes, [(255, 0, 0), (0, 0, 255)]):
        x1, y1, x2, y2 = box.astype(int)
        drawn = drawn_mask(out['img'], colour)
        assert drawn[y1:y2, x1:x2].all() and drawn.sum() == (x2 - x1) * (y2 - y1)


def test_flip_moves_masks_with_the_image():
    results = make_results()
    masks = np.stack([drawn_mask(results['img'], (255, 0, 0)),
                      drawn_mask(results['img'], (0, 0, 255))]).astype(np.uint8)
    pipeline = Compose([dict(type='LoadGroundingAnnotations'),
                        dict(type='RandomFlipWithText', prob=1.0)])
    results['gt_masks'] = BitmapMasks(masks, 60, 100)
    out = pipeline(results)
    flipped = out['gt_masks'].masks.astype(bool)
    assert np.array_equal(flipped[0], drawn_mask(out['img'], (255, 0, 0)))
    assert np.array_equal(flipped[1], drawn_mask(out['img'], (0, 0, 255)))
    # the mask's extent is the flipped box
    ys, xs = np.nonzero(flipped[0])
    assert [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1] == \
        out['gt_bboxes'].tensor[0].tolist()


def test_no_flip_leaves_text_alone():
    out = Compose([dict(type='LoadGroundingAnnotations'),
                   dict(type='RandomFlipWithText', prob=0.0)])(make_results())
    assert not out['flip'] and out['caption'] == CAPTION
    assert out['phrase_spans'] == [(0, 19), (31, 48)]


def test_flip_is_seeded_and_grouped_captions_swap():
    flips = []
    for _ in range(2):
        np.random.seed(3)
        transform = RandomFlipWithText(prob=0.5)
        flips.append([transform(dict(img=np.zeros((4, 4, 3), np.uint8)))['flip']
                      for _ in range(8)])
    assert flips[0] == flips[1] and 0 < sum(flips[0]) < 8
    out = RandomFlipWithText(prob=1.0)(
        dict(img=np.zeros((4, 4, 3), np.uint8), captions=['left cup', 'a right hand']))
    assert out['captions'] == ['right cup', 'a left hand']
    with pytest.raises(ValueError, match='horizontally'):
        RandomFlipWithText(direction='vertical')


def test_resize_keeps_boxes_on_drawn_pixels():
    # mmdet's Resize scales gt_bboxes with the image: (100, 60) -> (200, 30) is x * 2, y / 2
    out = Compose([dict(type='LoadGroundingAnnotations'),
                   dict(type='Resize', scale=(200, 30), keep_ratio=False,
                        interpolation='nearest'),
                   dict(type='RandomFlipWithText', prob=1.0),
                   dict(type='PackGroundingInputs')])(make_results())
    sample = out['data_samples']
    # dog [10, 20, 30, 40] -> resize [20, 10, 60, 20] -> flip in width 200: [140, 10, 180, 20]
    assert sample.phrase_boxes(0).tolist() == [[140., 10., 180., 20.]]
    assert sample.metainfo['phrases'] == ['the dog on the right', 'the leftmost cat']
    img = out['inputs'].permute(1, 2, 0).numpy()
    for index, colour in enumerate([(255, 0, 0), (0, 0, 255)]):
        x1, y1, x2, y2 = sample.phrase_boxes(index)[0].int().tolist()
        drawn = drawn_mask(img, colour)
        assert drawn[y1:y2, x1:x2].all() and drawn.sum() == (x2 - x1) * (y2 - y1)


def test_color_jitter_changes_the_image_only_and_is_seeded():
    results = make_results()
    results['img'] = np.random.RandomState(0).randint(0, 256, (60, 100, 3), np.uint8)
    pipeline = Compose([dict(type='LoadGroundingAnnotations'),
                        dict(type='GroundingColorJitter', brightness=0.4, contrast=0.4,
                             saturation=0.4, hue=0.1, prob=1.0)])
    reference = Compose([dict(type='LoadGroundingAnnotations')])(copy.deepcopy(results))
    outs = []
    for _ in range(2):
        np.random.seed(7)
        outs.append(pipeline(copy.deepcopy(results)))
    assert np.array_equal(outs[0]['img'], outs[1]['img'])
    out = outs[0]
    assert out['img'].dtype == np.uint8 and out['img'].shape == (60, 100, 3)
    assert not np.array_equal(out['img'], results['img'])
    assert out['caption'] == reference['caption']
    assert out['phrase_spans'] == reference['phrase_spans']
    assert np.array_equal(out['gt_bboxes'].tensor, reference['gt_bboxes'].tensor)


def test_color_jitter_brightness_factor_and_probability():
    img = np.full((8, 8, 3), 100, np.uint8)
    # contrast and saturation of strength 0 draw factor 1 (no change): brightness only,
    # factor in [0.5, 1.5] -> every pixel in [50, 150], all equal
    jitter = GroundingColorJitter(brightness=0.5, contrast=0., saturation=0., prob=1.0)
    for seed in range(5):
        np.random.seed(seed)
        out = jitter(dict(img=img.copy()))['img']
        assert 50 <= out.min() == out.max() <= 150
    np.random.seed(0)
    assert np.array_equal(GroundingColorJitter(prob=0.0)(dict(img=img.copy()))['img'], img)
    # a single-channel image gets brightness only
    gray = jitter(dict(img=np.full((8, 8), 100, np.uint8)))['img']
    assert gray.shape == (8, 8)
    with pytest.raises(ValueError):
        GroundingColorJitter(hue=0.6)


def test_hue_shift_turns_red_into_green_and_back():
    red = np.zeros((2, 2, 3), np.uint8)
    red[..., 2] = 255  # BGR
    green = _shift_hue(red, 1 / 3)  # a third of the colour circle
    assert green[..., 1].min() >= 250 and green[..., 2].max() <= 10
    back = _shift_hue(green, -1 / 3)  # negative shifts work (mmcv's adjust_hue fails here)
    assert back[..., 2].min() >= 250 and back[..., 1].max() <= 10


def test_mmcv_grayscale_resolves_in_our_scope():
    gray = TRANSFORMS.build(dict(type='RandomGrayscale', prob=1.0, keep_channels=True))
    out = gray(dict(img=make_results()['img']))
    assert out['img'].shape == (60, 100, 3)
    assert np.array_equal(out['img'][..., 0], out['img'][..., 2])
