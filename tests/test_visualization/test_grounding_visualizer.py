"""The heatmap figure: its layout, and that boxes and points land where the data puts them."""

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from mmgrounding.registry import VISUALIZERS
from mmgrounding.structures import GroundingDataSample
from mmgrounding.visualization import GroundingVisualizer
from mmgrounding.visualization.grounding_visualizer import (
    CAPTION_STRIP,
    GT_COLOUR,
    PRED_BOX_COLOUR,
)
from mmgrounding.visualization.heatmaps import upscale_factor
from mmgrounding.visualization.outcomes import (
    HIT_COLOUR,
    MISS_COLOUR,
    NO_BOX_COLOUR,
    phrase_outcomes,
)

H, W = 40, 60  # a small image: upscaled 4x to 160 x 240 with min_side=160


def _sample(*, heatmaps: bool = True, boxes: bool = False, phrases=None) -> GroundingDataSample:
    """Two phrases on a 40 x 60 image.

    Phrase 0 owns the box [10, 5, 30, 25]; its map peaks in cell (row 1, col 1) of a 4 x 6
    grid of 10-pixel cells, whose centre (15, 15) lies in that box: a hit. Phrase 1 owns
    [40, 10, 55, 35]; its map peaks in cell (0, 0), centre (5, 5): a miss.
    """
    phrases = phrases or ['a red circle', 'a blue square to the right of the red circle']
    sample = GroundingDataSample(
        metainfo=dict(
            img_id=7,
            caption_id=2,
            img_path='x.jpg',
            ori_shape=(H, W),
            img_shape=(H, W),
            caption='A red circle and a blue square to the right of the red circle.',
            phrases=phrases,
        )
    )
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[10.0, 5.0, 30.0, 25.0], [40.0, 10.0, 55.0, 35.0]]),
        labels=torch.tensor([0, 1]),
    )
    if heatmaps:
        maps = torch.zeros(len(phrases), 4, 6)
        maps[0, 1, 1] = 1.0
        maps[1:, 0, 0] = 1.0
        sample.pred_heatmaps = maps
    if boxes:
        # phrase 0: top box centred at (20, 15), in its box; phrase 1: centred at (10, 30)
        sample.pred_boxes = torch.tensor(
            [
                [[12.0, 8.0, 28.0, 22.0], [0.0, 0.0, 5.0, 5.0]],
                [[5.0, 25.0, 15.0, 35.0], [0.0, 0.0, 5.0, 5.0]],
            ]
        )
        sample.pred_scores = torch.tensor([[0.9, 0.1], [0.8, 0.2]])
    return sample


def _image() -> np.ndarray:
    return np.full((H, W, 3), 128, dtype=np.uint8)


@pytest.fixture
def vis():
    return GroundingVisualizer(name='test_grounding_visualizer', min_side=160, font_px=14)


def _close(pixel, colour, tol=12) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - np.array(colour)) <= tol))


def test_upscale_factor():
    assert upscale_factor((120, 160), 320) == 3  # SynthGround 160 x 120 -> 480 x 360
    assert upscale_factor((40, 60), 160) == 4
    assert upscale_factor((400, 500), 320) == 1  # large enough already


def test_outcomes_follow_the_pointing_game():
    heat = phrase_outcomes(_sample())
    assert [o.point for o in heat] == [(15.0, 15.0), (5.0, 5.0)]
    assert [o.hit for o in heat] == [True, False]
    assert heat[0].status == 'HIT (heatmap peak)' and heat[1].status == 'MISS (heatmap peak)'
    box = phrase_outcomes(_sample(heatmaps=False, boxes=True))
    assert [o.point for o in box] == [(20.0, 15.0), (10.0, 30.0)]
    assert [o.hit for o in box] == [True, False]
    assert box[0].source == 'top box centre'
    np.testing.assert_array_equal(box[1].top_box, [5.0, 25.0, 15.0, 35.0])


def test_outcomes_follow_the_evaluators_protocol():
    # the corner map of tests/test_evaluation/test_pointing_protocols.py: a 2 x 2 map over a
    # 100 x 100 image with its mass in cell (0, 1); the grid protocol points at that cell's
    # centre (75, 25), the official AMC protocol at the bicubic overshoot pixel (91, 8)
    sample = GroundingDataSample(
        metainfo=dict(ori_shape=(100, 100), img_path='c.jpg', phrases=['a cat'])
    )
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[80.0, 0.0, 100.0, 20.0]]), labels=torch.tensor([0])
    )
    sample.pred_heatmaps = torch.tensor([[[0.0, 1.0], [0.0, 0.0]]])
    [grid] = phrase_outcomes(sample)
    assert grid.point == (75.0, 25.0) and grid.hit is False
    [amc] = phrase_outcomes(sample, protocol='amc_official')
    assert amc.point == (91.0, 8.0) and amc.hit is True
    assert amc.status == 'HIT (upsampled heatmap peak)'
    # InfoGround's protocol points with the top box even when there is a heatmap, and
    # strictly: the centre (80, 10) on the box's left border misses
    sample.pred_boxes = torch.tensor([[[70.0, 0.0, 90.0, 20.0]]])
    [box] = phrase_outcomes(sample, protocol='infoground')
    assert box.point == (80.0, 10.0) and box.hit is False and box.source == 'top box centre'
    assert phrase_outcomes(sample, protocol='grid')[0].hit is False  # the heatmap's (75, 25)
    # a protocol whose prediction is missing shows no point
    del sample.pred_boxes
    assert phrase_outcomes(sample, protocol='reir')[0].status == 'no prediction'
    with pytest.raises(ValueError, match='pointing protocol must be one of'):
        GroundingVisualizer(name='test_grounding_visualizer_bad', protocol='pointing15')


def test_official_protocols_test_hits_against_the_official_boxes():
    # phrase 0's box [10, 5, 30, 25] as the Flickr30k loader gives it (the XML's 1-based
    # inclusive 11..30, 6..25); the official code's box is [10, 5, 29, 24]. Its top box
    # [27, 10, 32, 20] has the centre (29.5, 15): strictly inside ours (29.5 < 30), outside the
    # official one (29.5 > 29)
    sample = _sample(heatmaps=False, boxes=True)
    sample.pred_boxes[0, 0] = torch.tensor([27.0, 10.0, 32.0, 20.0])
    flickr = dict(protocol='infoground', box_convention='pixel_inclusive_1based')
    assert phrase_outcomes(sample, **flickr)[0].hit is False
    assert phrase_outcomes(sample, protocol='infoground')[0].hit is True
    # the grid protocol keeps our boxes whatever the dataset; official_boxes overrides
    assert phrase_outcomes(sample, protocol='grid', box_convention='pixel_inclusive_1based')[0].hit
    assert phrase_outcomes(sample, **flickr, official_boxes=False)[0].hit is True
    # the figure's status strip follows: MISS on a Flickr30k-convention visualizer
    for convention, colour in (('pixel_inclusive_1based', MISS_COLOUR), ('continuous', HIT_COLOUR)):
        vis = GroundingVisualizer(
            name=f'test_grounding_visualizer_{convention}',
            min_side=160,
            font_px=14,
            protocol='infoground',
            box_convention=convention,
        )
        layout, _ = vis.sample_layout((H, W), sample)
        drawn = vis.draw_sample(_image(), sample)
        x0, y0 = layout.image_origins[0]
        below = y0 + layout.image_hw[0] + layout.status_h - 2
        assert _close(drawn[below, x0 + layout.image_hw[1] - 3], colour)
    with pytest.raises(ValueError, match='box_convention must be one of'):
        GroundingVisualizer(name='test_grounding_visualizer_badbox', box_convention='xywh')


def test_layout_sizes_and_panels(vis):
    sample = _sample(phrases=['one', 'two', 'three', 'four', 'five'])
    layout, phrases = vis.sample_layout((H, W), sample)
    assert layout.scale == 4 and layout.image_hw == (160, 240)
    assert len(layout.image_origins) == 5 == len(phrases)
    # three columns, two rows: the second row starts below the first, same x as the first
    xs = sorted({x for x, _ in layout.image_origins})
    ys = sorted({y for _, y in layout.image_origins})
    assert len(xs) == 3 and len(ys) == 2
    assert layout.image_origins[3][0] == layout.image_origins[0][0]
    assert layout.size_hw[1] == 3 * 240 + 4 * vis.gap
    drawn = vis.draw_sample(_image(), sample)
    assert drawn.shape == (*layout.size_hw, 3)
    # max_phrases caps the panels and the header says how many are left out
    few = GroundingVisualizer(name='test_grounding_visualizer_few', min_side=160, max_phrases=2)
    layout2, phrases2 = few.sample_layout((H, W), sample)
    assert phrases2 == ['one', 'two'] and len(layout2.image_origins) == 2
    assert '+3 more phrases' in ' '.join(layout2.header_lines)
    # rows are balanced: four panels as 2 x 2
    layout4, _ = vis.sample_layout((H, W), _sample(phrases=['a', 'b', 'c', 'd']))
    assert len({x for x, _ in layout4.image_origins}) == 2
    assert len({y for _, y in layout4.image_origins}) == 2


def test_long_phrase_wraps_inside_its_strip(vis):
    long = 'a very long phrase ' * 6
    layout, _ = vis.sample_layout((H, W), _sample(phrases=['short', long]))
    assert layout.phrase_lines[0] == ('"short"',)
    assert 1 < len(layout.phrase_lines[1]) <= 3
    for line in layout.phrase_lines[1]:
        assert vis._text_width(line) <= layout.image_hw[1] - 2 * vis.gap
    # every panel gets the strip of the longest phrase, above its image
    assert layout.strip_h == len(layout.phrase_lines[1]) * layout.line_px + vis.gap


def test_boxes_points_and_strips_are_drawn_where_they_belong(vis):
    sample = _sample(boxes=True)
    layout, _ = vis.sample_layout((H, W), sample)
    drawn = vis.draw_sample(_image(), sample)
    half = vis.line_px(layout) // 2

    def at(panel, x, y):
        fx, fy = layout.to_figure(panel, np.array([x, y])).round().astype(int)
        return drawn[fy, fx]

    # ground truth of phrase 0: the middle of its top edge (y = 5) and left edge (x = 10)
    assert _close(at(0, 20, 5 + half / 4), GT_COLOUR)
    assert _close(at(0, 10 + half / 4, 15), GT_COLOUR)
    # top predicted box of phrase 1: middle of its bottom edge (y = 35, drawn at 35*4 - 1)
    fx, fy = layout.to_figure(1, np.array([10, 35])).astype(int)
    assert _close(drawn[fy - 1 - half // 2, fx], PRED_BOX_COLOUR)
    # the predicted points: heatmap peaks (15, 15) hit and (5, 5) miss
    assert _close(at(0, 15, 15), HIT_COLOUR)
    assert _close(at(1, 5, 5), MISS_COLOUR)
    # nothing drawn in a box-free, point-free spot: the heatmap colour over grey (cold, blue)
    assert not any(_close(at(0, 45, 35), c) for c in (GT_COLOUR, PRED_BOX_COLOUR, HIT_COLOUR))
    # strips: caption strip above each image, status strip below in the outcome's colour
    for p, colour in ((0, HIT_COLOUR), (1, MISS_COLOUR)):
        x0, y0 = layout.image_origins[p]
        assert _close(drawn[y0 - layout.strip_h + 1, x0 + layout.image_hw[1] - 3], CAPTION_STRIP)
        below = y0 + layout.image_hw[0] + layout.status_h - 2
        assert _close(drawn[below, x0 + layout.image_hw[1] - 3], colour)


def test_phrase_without_box_is_grey(vis):
    sample = _sample()
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([[10.0, 5.0, 30.0, 25.0]]), labels=torch.tensor([0])
    )
    outcomes = phrase_outcomes(sample)
    assert outcomes[1].hit is None and outcomes[1].colour == NO_BOX_COLOUR
    layout, _ = vis.sample_layout((H, W), sample)
    drawn = vis.draw_sample(_image(), sample)
    x0, y0 = layout.image_origins[1]
    assert _close(drawn[y0 + layout.image_hw[0] + layout.status_h - 2, x0 + 2], NO_BOX_COLOUR)


def test_figures_go_to_file_and_tensorboard(tmp_path):
    import cv2
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    vis = VISUALIZERS.build(
        dict(
            type='GroundingVisualizer',
            name='test_grounding_visualizer_tb',
            min_side=160,
            vis_backends=[dict(type='TensorboardVisBackend')],
            save_dir=str(tmp_path),
        )
    )
    sample = _sample()
    layout, _ = vis.sample_layout((H, W), sample)
    out = tmp_path / 'fig.png'
    vis.add_datasample('fig', _image(), data_sample=sample, out_file=str(out))
    assert cv2.imread(str(out)).shape == (*layout.size_hw, 3)
    vis.add_datasample('val_x.jpg', _image(), data_sample=sample, step=3)
    vis.close()
    events = EventAccumulator(str(tmp_path / 'vis_data'))
    events.Reload()
    [image] = events.Images('val_x.jpg')
    assert image.step == 3
    assert (image.height, image.width) == layout.size_hw


def test_spotlight_keeps_the_colours_where_the_map_peaks():
    from mmgrounding.visualization import spotlight_heatmap

    image = np.full((4, 4, 3), (200, 100, 50), dtype=np.uint8)
    heat = np.array([[0.0, 1.0], [0.5, 0.0]])  # 2 x 2 cells of 2 x 2 pixels
    lit = spotlight_heatmap(image, heat, floor=0.3)
    np.testing.assert_array_equal(lit[0, 2], (200, 100, 50))  # the peak: unchanged
    np.testing.assert_array_equal(lit[0, 0], (60, 30, 15))  # the minimum: 0.3 of it
    np.testing.assert_array_equal(lit[2, 0], (130, 65, 32))  # half way: 0.65 of it


def test_hook_writes_one_figure_per_drawn_test_batch(tmp_path):
    from types import SimpleNamespace

    import cv2

    from mmgrounding.engine.hooks import HeatmapVisualizationHook

    image_file = tmp_path / 'x.jpg'
    cv2.imwrite(str(image_file), _image())
    vis = GroundingVisualizer.get_instance('test_grounding_visualizer_hook', min_side=160)
    sample = _sample()
    sample.set_metainfo(dict(img_path=str(image_file)))
    hook = HeatmapVisualizationHook(draw=True, interval=2, test_out_dir='figs')
    runner = SimpleNamespace(work_dir=str(tmp_path), timestamp='t')
    for batch_idx in range(3):  # batches 0 and 2 are drawn
        sample.set_metainfo(dict(caption_id=batch_idx))
        hook.after_test_iter(runner, batch_idx, {}, [sample])
    files = sorted((tmp_path / 't' / 'figs').iterdir())
    assert [f.name for f in files] == ['7_0.png', '7_2.png']
    layout, _ = vis.sample_layout((H, W), sample)
    assert cv2.imread(str(files[0])).shape == (*layout.size_hw, 3)


def test_hook_gives_the_figures_the_evaluators_protocol():
    """Before a test (or validation) run the hook sets the visualizer's protocol, official
    boxes and box convention from the loop's PointingGameMetric: the sample of
    test_official_protocols_test_hits_against_the_official_boxes then shows MISS, as the
    metric counts it on a Flickr30k-convention dataset."""
    from types import SimpleNamespace

    from mmengine.evaluator import Evaluator

    from mmgrounding.engine.hooks import HeatmapVisualizationHook
    from mmgrounding.evaluation import PointingGameMetric
    from mmgrounding.evaluation.functional import POINTING_PROTOCOLS

    vis = GroundingVisualizer.get_instance('test_grounding_visualizer_follow', min_side=160)
    evaluator = Evaluator(
        [dict(type='BoxRecallMetric'), dict(type='PointingGameMetric', protocol='infoground')]
    )
    evaluator.dataset_meta = dict(box_convention='pixel_inclusive_1based')
    runner = SimpleNamespace(test_loop=SimpleNamespace(evaluator=evaluator))
    HeatmapVisualizationHook(draw=True).before_test(runner)
    assert vis.protocol == POINTING_PROTOCOLS['infoground']
    assert vis.official_boxes is True and vis.box_convention == 'pixel_inclusive_1based'
    sample = _sample(heatmaps=False, boxes=True)
    sample.pred_boxes[0, 0] = torch.tensor([27.0, 10.0, 32.0, 20.0])
    layout, _ = vis.sample_layout((H, W), sample)
    drawn = vis.draw_sample(_image(), sample)
    x0, y0 = layout.image_origins[0]
    assert _close(
        drawn[y0 + layout.image_hw[0] + layout.status_h - 2, x0 + layout.image_hw[1] - 3],
        MISS_COLOUR,
    )
    # the metric itself counts the same phrase as a miss
    metric = PointingGameMetric(protocol='infoground')
    metric.dataset_meta = evaluator.dataset_meta
    metric.process({}, [sample])
    assert metric.results[0][0][0] is False
    # follow_evaluator=False keeps the visualizer's own settings
    vis.protocol, vis.official_boxes, vis.box_convention = 'grid', None, 'continuous'
    HeatmapVisualizationHook(draw=True, follow_evaluator=False).before_test(runner)
    assert vis.protocol == 'grid' and vis.box_convention == 'continuous'
