"""One legible figure per sample: a panel per phrase with its heatmap, boxes and outcome."""

import math
from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np
from mmengine.dist import master_only
from mmengine.visualization import Visualizer

from mmgrounding.evaluation.functional import (
    BOX_CONVENTIONS,
    PointingProtocol,
    pointing_protocol,
)
from mmgrounding.registry import VISUALIZERS
from mmgrounding.structures import GroundingDataSample

from .heatmaps import overlay_heatmap, spotlight_heatmap, upscale_factor
from .outcomes import HIT_COLOUR, MISS_COLOUR, PhraseOutcome, phrase_outcomes

# RGB colours of the figure; a test reads them back from the pixels.
GT_COLOUR = (0, 255, 0)  # ground-truth boxes
PRED_BOX_COLOUR = (255, 0, 255)  # the top-ranked predicted box
OUTLINE_COLOUR = (0, 0, 0)  # the halo drawn under every box and ring
POINT_RING_COLOUR = (255, 255, 255)
BACKGROUND = (255, 255, 255)
CAPTION_STRIP = (232, 232, 232)
TEXT_COLOUR = (0, 0, 0)
# the legend under the panels: (swatch kind, colour, label)
LEGEND_ITEMS = (
    ('box', GT_COLOUR, 'ground truth'),
    ('box', PRED_BOX_COLOUR, 'top predicted box'),
    ('dot', HIT_COLOUR, 'predicted point: hit'),
    ('dot', MISS_COLOUR, 'miss'),
)


@dataclass(frozen=True)
class FigureLayout:
    """Where everything of one figure goes, in figure pixels.

    Attributes:
        size_hw: (height, width) of the figure.
        scale: the integer nearest-neighbour upscale factor of the image.
        image_hw: (height, width) of the upscaled image in each panel.
        image_origins: per panel, (x, y) of the top-left corner of its image.
        header_lines: the wrapped caption lines at the top.
        phrase_lines: per panel, the wrapped phrase lines of its caption strip.
        legend: per legend item shown, ((x, y) of its swatch, item of :data:`LEGEND_ITEMS`).
        line_px: height of one line of text.
        strip_h: height of the caption strip above each image.
        status_h: height of the status strip below each image.
    """

    size_hw: tuple[int, int]
    scale: int
    image_hw: tuple[int, int]
    image_origins: tuple[tuple[int, int], ...]
    header_lines: tuple[str, ...]
    phrase_lines: tuple[tuple[str, ...], ...]
    legend: tuple[tuple[tuple[int, int], tuple], ...]
    line_px: int
    strip_h: int
    status_h: int

    def to_figure(self, panel: int, xy: np.ndarray) -> np.ndarray:
        """(..., 2) original image pixels of ``panel`` -> figure pixels."""
        x0, y0 = self.image_origins[panel]
        return np.asarray(xy, dtype=np.float64) * self.scale + np.array([x0, y0])


@VISUALIZERS.register_module()
class GroundingVisualizer(Visualizer):
    """Draws one figure per sample: the caption on top, then one panel per phrase, each with

    * the phrase in a caption strip above the image (wrapped, never over the picture);
    * the image upscaled by an integer factor (nearest neighbour) so that its shorter side has
      at least ``min_side`` pixels, the heatmap over it in cells (nearest neighbour: the cell
      of the peak is the one the pointing game takes), the ground-truth boxes in green and the
      top-ranked predicted box in magenta, each on a black halo;
    * the predicted point (heatmap peak or top-box centre, as the pointing game takes it), a
      dot in green when it hits a ground-truth box of the phrase and red when it misses;
    * a status strip under the image: HIT / MISS and where the point came from;

    and a legend at the bottom. The figure goes to every backend of the visualizer
    (TensorBoard, the local ``vis_data`` folder) or to a file.

    Args:
        max_phrases: panels per figure at most (the first phrases of the caption).
        columns: panels per row at most.
        min_side: shorter side of each panel's image in pixels at least.
        font_px: text height in pixels.
        style: how the heatmap is shown: ``'spotlight'`` (the image dimmed where the map is
            low, its colours true) or ``'jet'`` (the map in JET colours over the image).
        floor: brightness of the image where the map is lowest (``'spotlight'``).
        alpha: weight of the JET colours (``'jet'``).
        protocol: the pointing protocol whose point and hit the panels show (a key of
            :data:`~mmgrounding.evaluation.functional.POINTING_PROTOCOLS`, or a metric's
            ``PointingGameMetric.spec``; set it to the evaluator's so that the figures agree
            with the reported accuracy, as ``tools/analysis_tools/visualize_heatmaps.py``
            does).
        box_convention: how the ground-truth boxes were loaded (a key of
            :data:`~mmgrounding.evaluation.functional.BOX_CONVENTIONS`, the dataset's
            ``METAINFO['box_convention']``); with the official protocols the hits are tested
            against the official code's boxes, as ``PointingGameMetric`` does.
        official_boxes: test hits against the official boxes; None: when ``protocol`` names
            one of :data:`~mmgrounding.evaluation.functional.OFFICIAL_BOX_PROTOCOLS` (give it
            with a ``PointingProtocol``, which carries no name).
        **kwargs: passed to :class:`mmengine.visualization.Visualizer`.
    """

    def __init__(
        self,
        name: str = 'visualizer',
        *,
        max_phrases: int = 6,
        columns: int = 3,
        min_side: int = 320,
        font_px: int = 18,
        style: str = 'spotlight',
        floor: float = 0.3,
        alpha: float = 0.5,
        protocol: str | PointingProtocol = 'grid',
        box_convention: str = 'continuous',
        official_boxes: Optional[bool] = None,
        **kwargs,
    ) -> None:
        super().__init__(name=name, **kwargs)
        if max_phrases < 1 or columns < 1 or min_side < 1 or font_px < 4:
            raise ValueError(
                'max_phrases, columns, min_side need >= 1 and font_px >= 4, got '
                f'{max_phrases}, {columns}, {min_side}, {font_px}'
            )
        self.max_phrases = max_phrases
        self.columns = columns
        self.min_side = min_side
        self.font_px = font_px
        if style not in ('spotlight', 'jet'):
            raise ValueError(f"style must be 'spotlight' or 'jet', got {style!r}")
        self.style = style
        self.floor = floor
        self.alpha = alpha
        if not isinstance(protocol, PointingProtocol):
            pointing_protocol(protocol)  # an unknown name raises here, not at the first figure
        self.protocol = protocol
        if box_convention not in BOX_CONVENTIONS:
            raise ValueError(
                f'box_convention must be one of {BOX_CONVENTIONS}, got {box_convention!r}'
            )
        self.box_convention = box_convention
        self.official_boxes = official_boxes
        self.gap = max(4, font_px // 2)

    # -- text -------------------------------------------------------------------------------
    @property
    def _font_points(self) -> float:
        return self.font_px * 72.0 / self.dpi

    def _text_width(self, text: str) -> float:
        from matplotlib.font_manager import FontProperties

        renderer = self.fig_save_canvas.get_renderer()
        prop = FontProperties(family='sans-serif', size=self._font_points)
        width, _, _ = renderer.get_text_width_height_descent(text, prop, ismath=False)
        return width

    def wrap(self, text: str, width_px: float, *, max_lines: int = 3) -> tuple[str, ...]:
        """``text`` in lines no wider than ``width_px`` (a word longer than a line gets its
        own line); past ``max_lines`` the last line ends in an ellipsis."""
        lines: list[str] = []
        for word in text.split():
            if lines and self._text_width(f'{lines[-1]} {word}') <= width_px:
                lines[-1] = f'{lines[-1]} {word}'
            else:
                lines.append(word)
        if len(lines) > max_lines:
            last = ' '.join(lines[max_lines - 1 :])
            while last and self._text_width(last + '…') > width_px:
                last = last[:-1]
            lines = lines[: max_lines - 1] + [last.rstrip() + '…']
        return tuple(lines) or ('',)

    # -- layout -----------------------------------------------------------------------------
    def layout(
        self,
        image_hw: tuple[int, int],
        phrases: list[str],
        caption: str,
        *,
        with_pred_box: bool = False,
    ) -> FigureLayout:
        """Sizes and positions of a figure of ``image_hw`` with a panel per phrase (the
        legend names the predicted box only ``with_pred_box``)."""
        scale = upscale_factor(image_hw, self.min_side)
        img_h, img_w = image_hw[0] * scale, image_hw[1] * scale
        num = max(1, len(phrases))
        rows = math.ceil(num / min(self.columns, num))
        cols = math.ceil(num / rows)  # balanced rows: 4 panels as 2 x 2, not 3 + 1
        line_px = round(self.font_px * 1.35)
        pad = self.gap
        phrase_lines = tuple(self.wrap(f'"{p}"', img_w - 2 * pad) for p in phrases)
        strip_h = max((len(lines) for lines in phrase_lines), default=1) * line_px + pad
        status_h = line_px + pad
        panel_h = strip_h + img_h + status_h
        width = cols * img_w + (cols + 1) * pad
        header_lines = self.wrap(caption, width - 2 * pad, max_lines=4)
        header_h = len(header_lines) * line_px + 2 * pad
        items = [item for item in LEGEND_ITEMS if with_pred_box or item[1] != PRED_BOX_COLOUR]
        legend, x, row = [], pad, 0
        for item in items:  # a flow of swatch + label, wrapped between items
            item_w = line_px + pad // 2 + round(self._text_width(item[2])) + 2 * pad
            if x > pad and x + item_w > width - pad:
                x, row = pad, row + 1
            legend.append(((x, row), item))
            x += item_w
        legend_h = (row + 1) * line_px + pad
        origins = tuple(
            (pad + (p % cols) * (img_w + pad), header_h + (p // cols) * (panel_h + pad) + strip_h)
            for p in range(len(phrases))
        )
        height = header_h + rows * (panel_h + pad) + legend_h
        legend_top = height - legend_h
        legend = [((x, legend_top + r * line_px), item) for (x, r), item in legend]
        return FigureLayout(
            (height, width),
            scale,
            (img_h, img_w),
            origins,
            header_lines,
            phrase_lines,
            tuple(legend),
            line_px,
            strip_h,
            status_h,
        )

    # -- drawing ----------------------------------------------------------------------------
    def line_px(self, layout: FigureLayout) -> int:
        """Thickness of the box lines in figure pixels (the halo adds one on each side)."""
        return int(min(4, max(2, layout.scale)))

    def draw_panel(
        self,
        image: np.ndarray,
        sample: GroundingDataSample,
        index: int,
        outcome: PhraseOutcome,
        layout: FigureLayout,
    ) -> np.ndarray:
        """The upscaled image of phrase ``index``: heatmap, boxes and point, (h, w, 3) RGB.

        Drawn with exact pixels (no anti-aliasing) on a copy clipped to the panel: a box
        edge at image pixel x is at panel pixel ``x * scale``.
        """
        img_h, img_w = layout.image_hw
        scale = layout.scale
        panel = cv2.resize(image, (img_w, img_h), interpolation=cv2.INTER_NEAREST)
        if 'pred_heatmaps' in sample:
            heat = sample.pred_heatmaps[index].detach().float().cpu().numpy()
            if self.style == 'spotlight':
                panel = spotlight_heatmap(panel, heat, floor=self.floor)
            else:
                panel = overlay_heatmap(
                    panel, heat, alpha=self.alpha, interpolation=cv2.INTER_NEAREST
                )
        panel = np.ascontiguousarray(panel)
        width = self.line_px(layout)

        def box(xyxy: np.ndarray, colour: tuple[int, int, int]) -> None:
            x1, y1, x2, y2 = (int(round(v * scale)) for v in xyxy)
            corners = (x1, y1), (max(x1, x2 - 1), max(y1, y2 - 1))
            cv2.rectangle(panel, *corners, OUTLINE_COLOUR, width + 2, cv2.LINE_8)
            cv2.rectangle(panel, *corners, colour, width, cv2.LINE_8)

        for gt in sample.phrase_boxes(index).detach().float().cpu().numpy():
            box(gt, GT_COLOUR)
        if outcome.top_box is not None:
            box(outcome.top_box, PRED_BOX_COLOUR)
        if outcome.point is not None:
            centre = (int(outcome.point[0] * scale), int(outcome.point[1] * scale))
            radius = self.point_radius
            cv2.circle(panel, centre, radius + 3, OUTLINE_COLOUR, -1, cv2.LINE_8)
            cv2.circle(panel, centre, radius + 2, POINT_RING_COLOUR, -1, cv2.LINE_8)
            cv2.circle(panel, centre, radius, outcome.colour, -1, cv2.LINE_8)
        return panel

    @property
    def point_radius(self) -> int:
        """Radius in figure pixels of the dot of the predicted point (without its rings)."""
        return max(4, round(0.4 * self.font_px))

    def sample_layout(
        self, image_hw: tuple[int, int], sample: GroundingDataSample
    ) -> tuple[FigureLayout, list[str]]:
        """The layout of ``sample``'s figure and the header text above its panels."""
        meta = sample.metainfo
        phrases = list(meta.get('phrases', []))[: self.max_phrases]
        title = f'image {meta.get("img_id", "?")}'
        if 'caption_id' in meta:
            title += f', caption {meta["caption_id"]}'
        header = f'{title}: {meta.get("caption", "")}'
        extra = sample.num_phrases - len(phrases)
        if extra > 0:
            header += f' (+{extra} more phrases not shown)'
        with_box = 'pred_boxes' in sample and sample.pred_boxes.shape[1] > 0
        return self.layout(image_hw, phrases, header, with_pred_box=with_box), phrases

    def draw_sample(self, image: np.ndarray, sample: GroundingDataSample) -> np.ndarray:
        """The figure of ``sample`` over its original ``image`` (H, W, 3) RGB, as RGB."""
        layout, phrases = self.sample_layout(image.shape[:2], sample)
        outcomes = phrase_outcomes(
            sample,
            protocol=self.protocol,
            box_convention=self.box_convention,
            official_boxes=self.official_boxes,
        )[: len(phrases)]
        canvas = np.empty((*layout.size_hw, 3), dtype=np.uint8)
        canvas[:] = BACKGROUND
        img_h, img_w = layout.image_hw
        pad, line_px, strip_h = self.gap, layout.line_px, layout.strip_h
        texts, positions, colours = [], [], []

        def text(line: str, x: float, y: float, colour=TEXT_COLOUR) -> None:
            texts.append(line)
            positions.append((x, y))
            colours.append(colour)

        for i, line in enumerate(layout.header_lines):
            text(line, pad, pad + i * line_px)
        for p, outcome in enumerate(outcomes):
            x0, y0 = layout.image_origins[p]
            canvas[y0 - strip_h : y0, x0 : x0 + img_w] = CAPTION_STRIP
            canvas[y0 : y0 + img_h, x0 : x0 + img_w] = self.draw_panel(
                image, sample, p, outcome, layout
            )
            canvas[y0 + img_h : y0 + img_h + layout.status_h, x0 : x0 + img_w] = outcome.colour
            for i, line in enumerate(layout.phrase_lines[p]):
                text(line, x0 + pad, y0 - strip_h + pad // 2 + i * line_px)
            text(outcome.status, x0 + pad, y0 + img_h + pad // 2, (255, 255, 255))
        swatch = line_px - pad // 2  # a square of about the text height
        for (x, y), (kind, colour, label) in layout.legend:
            if kind == 'box':
                corners = (x + 1, y + 1), (x + swatch - 2, y + swatch - 2)
                cv2.rectangle(canvas, *corners, OUTLINE_COLOUR, 4, cv2.LINE_8)
                cv2.rectangle(canvas, *corners, colour, 2, cv2.LINE_8)
            else:
                centre, half = (x + swatch // 2, y + swatch // 2), swatch // 2
                cv2.circle(canvas, centre, half, OUTLINE_COLOUR, -1, cv2.LINE_8)
                cv2.circle(canvas, centre, half - 1, POINT_RING_COLOUR, -1, cv2.LINE_8)
                cv2.circle(canvas, centre, half - 3, colour, -1, cv2.LINE_8)
            text(label, x + swatch + pad // 2, y)
        self.set_image(canvas)
        self.draw_texts(
            texts,
            np.array(positions, dtype=np.float64),
            font_sizes=self._font_points,
            colors=colours,
            vertical_alignments='top',
        )
        return self.get_image()

    @master_only
    def add_datasample(
        self,
        name: str,
        image: np.ndarray,
        data_sample: Optional[GroundingDataSample] = None,
        draw_gt: bool = True,
        draw_pred: bool = True,
        show: bool = False,
        wait_time: float = 0,
        out_file: Optional[str] = None,
        step: int = 0,
    ) -> None:
        """Draw ``data_sample`` over ``image`` (H, W, 3) RGB and show it, write it to
        ``out_file`` or, without one, send it to every backend (TensorBoard, ``vis_data``)
        under ``name`` at ``step``."""
        drawn = self.draw_sample(image, data_sample) if data_sample is not None else image
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            cv2.imwrite(out_file, drawn[..., ::-1])
        else:
            self.add_image(name, drawn, step)
