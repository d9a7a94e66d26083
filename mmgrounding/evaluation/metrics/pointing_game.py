from collections import defaultdict
from dataclasses import replace
from typing import Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmgrounding.registry import METRICS

from ..functional import (
    BOX_CONVENTIONS,
    OFFICIAL_BOX_PROTOCOLS,
    pointing_protocol,
    protocol_pointing_hits,
)
from .utils import box_convention_of, field, gt_boxes_and_index, mean_percent


@METRICS.register_module()
class PointingGameMetric(BaseMetric):
    """Pointing accuracy (%) overall and per phrase type, under a named protocol.

    A phrase is a hit when its predicted point lies inside its ground truth. How the point is
    found and what counts as inside is the ``protocol`` (see
    :data:`mmgrounding.evaluation.functional.POINTING_PROTOCOLS` and docs/metrics.md):

    - ``'grid'`` (default, ours): the centre of the maximal cell of ``pred_heatmaps`` on
      their own grid, or the centre of the top-ranked ``pred_boxes`` (``source``); inside
      any ground-truth box, borders included;
    - ``'amc_official'``: the heatmap upsampled bicubically to the image size, its first
      maximum; strictly inside any ground-truth box (AMC / ALBEF official evaluation);
    - ``'infoground'``: the centre of the top box strictly inside any ground-truth box;
    - ``'reir'``: the centre of the top box inside the union box, borders included.

    Args:
        protocol: the protocol name.
        source: for ``protocol='grid'`` only: ``'heatmap'``, ``'box'`` or ``'auto'``
            (heatmap when the sample has one). The other protocols fix their source.
        tolerance: pixels a point may lie outside a box and still hit.
        box_convention: how the ground truth was loaded, for the protocols that test against
            the official code's boxes (``OFFICIAL_BOX_PROTOCOLS``: ``amc_official``,
            ``infoground``, ``reir``; Flickr30k boxes get ``x2 - 1``, ``y2 - 1`` as
            ``get_annotations`` stores them, docs/formats.md); None (default) reads the
            dataset's ``METAINFO['box_convention']``; ``'continuous'`` tests against our
            boxes as they are.
        per_type: also report the accuracy of each phrase type (a phrase with several types
            counts for each).
        collect_device, prefix: as in :class:`mmengine.evaluator.BaseMetric`.
    """

    default_prefix: Optional[str] = 'pointing'

    def __init__(
        self,
        *,
        protocol: str = 'grid',
        source: str = 'auto',
        tolerance: float = 0.0,
        box_convention: Optional[str] = None,
        per_type: bool = True,
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if source not in ('auto', 'heatmap', 'box'):
            raise ValueError(f"source must be 'auto', 'heatmap' or 'box', got {source!r}")
        spec = pointing_protocol(protocol)
        if spec.point != 'auto' and source != 'auto':
            raise ValueError(
                f'source={source!r} is only for the grid protocol: '
                f'{protocol!r} fixes its own point ({spec.point})'
            )
        self.protocol = protocol
        self.source = source
        # the protocol this metric applies: for 'grid', ``source`` may fix its point
        if source != 'auto':
            spec = replace(spec, point={'heatmap': 'heatmap_cell', 'box': 'box_centre'}[source])
        self.spec = spec
        self.tolerance = tolerance
        if box_convention is not None and box_convention not in BOX_CONVENTIONS:
            raise ValueError(
                f'box_convention must be one of {BOX_CONVENTIONS}, got {box_convention!r}'
            )
        if box_convention is not None:
            # a public attribute only when set, so that the protocol record of a metric with
            # the defaults (mmgrounding.apis.metric_protocol) is what it was before the option
            self.box_convention = box_convention
        self.per_type = per_type

    def process(self, data_batch: dict, data_samples: Sequence) -> None:
        needs = {
            'heatmap_cell': 'pred_heatmaps',
            'heatmap_upsampled': 'pred_heatmaps',
            'box_centre': 'pred_boxes',
        }.get(self.spec.point)  # None for 'auto': whichever the sample has
        for sample in data_samples:
            metainfo = field(sample, 'metainfo', sample)
            ori_hw = tuple(field(metainfo, 'ori_shape'))[:2]
            heatmaps = field(sample, 'pred_heatmaps')
            boxes = field(sample, 'pred_boxes')
            if needs is not None and field(sample, needs) is None:
                raise KeyError(
                    f'sample {field(metainfo, "img_path")} has no {needs} '
                    f'(pointing protocol {self.protocol!r})'
                )
            if heatmaps is None and boxes is None:
                raise KeyError(f'sample {field(metainfo, "img_path")} has no prediction')
            gt_boxes, index = gt_boxes_and_index(sample)
            hits = protocol_pointing_hits(
                self.spec,
                gt_boxes,
                index,
                ori_hw,
                heatmaps=None if heatmaps is None else heatmaps.detach().float().cpu(),
                top_boxes_xyxy=None if boxes is None else boxes.detach().float().cpu()[:, 0],
                tolerance=self.tolerance,
                box_convention=box_convention_of(self),
                official_boxes=self.protocol in OFFICIAL_BOX_PROTOCOLS,
            )
            types = field(metainfo, 'phrase_types') or [[] for _ in range(len(hits))]
            # one entry per sample: the evaluator truncates results to the dataset size
            self.results.append([(hit, tuple(t)) for hit, t in zip(hits.tolist(), types)])

    def compute_metrics(self, results: list) -> dict:
        results = [phrase for sample in results for phrase in sample]
        metrics = {'accuracy': mean_percent([hit for hit, _ in results])}
        if self.per_type:
            by_type = defaultdict(list)
            for hit, types in results:
                for t in types:
                    by_type[t].append(hit)
            metrics.update({t: mean_percent(v) for t, v in sorted(by_type.items())})
        MMLogger.get_current_instance().info(
            f'pointing game ({self.protocol}) over {len(results)} phrases: '
            f'{metrics["accuracy"]:.2f}%'
        )
        return metrics
