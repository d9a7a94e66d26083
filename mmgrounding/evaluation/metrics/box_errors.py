"""Where a proposal-based grounder's top boxes go wrong (an error analysis, not a score)."""

from typing import Optional, Sequence

from mmengine.evaluator import BaseMetric

from mmgrounding.registry import METRICS

from ..functional.box_errors import BOX_ERROR_KINDS, box_error_kind
from .utils import field, gt_boxes_and_index


@METRICS.register_module()
class BoxErrorMetric(BaseMetric):
    """Shares (%) of the phrases by what their top box is, among phrases with a box.

    Per phrase (:func:`~mmgrounding.evaluation.functional.box_errors.box_error_kind`):
    ``correct`` (IoU > ``iou_thr``), ``poor_box`` (the right object, IoU in (``near_thr``,
    ``iou_thr``]: a box that covers too little or too much of it), ``other_object`` (IoU ≤
    ``near_thr``), and for the last two whether a proposal with the detector label of the
    answer's proposal is correct (``<kind>_same_label``: the right class, another instance
    or box of it); ``oracle``: some proposal of the image is correct. Also ``phrases``.

    The answer is ``pred_boxes[:, 0]`` (P, k, 4), the proposals the sample's
    ``proposals.bboxes`` / ``.labels`` (original pixels at test time, as the region cache
    loads them before ``Resize``). ``tools/analysis_tools/box_errors.py`` runs it on a
    trained model.

    Args:
        iou_thr, near_thr, strict_iou: see ``box_error_kind``.
        collect_device, prefix: as in :class:`mmengine.evaluator.BaseMetric`.
    """

    default_prefix: Optional[str] = 'box_errors'

    def __init__(
        self,
        *,
        iou_thr: float = 0.5,
        near_thr: float = 0.1,
        strict_iou: bool = True,
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if near_thr >= iou_thr:
            raise ValueError(f'near_thr ({near_thr}) must be below iou_thr ({iou_thr})')
        self.iou_thr, self.near_thr, self.strict_iou = float(iou_thr), float(near_thr), strict_iou

    def process(self, data_batch: dict, data_samples: Sequence) -> None:
        for sample in data_samples:
            metainfo = field(sample, 'metainfo', sample)
            name = field(metainfo, 'img_path', '?')
            answers = field(sample, 'pred_boxes')
            proposals = field(sample, 'proposals')
            if answers is None or proposals is None:
                raise KeyError(
                    f'BoxErrorMetric: sample {name} has no '
                    f'{"pred_boxes" if answers is None else "proposals"} (a model answering '
                    'with boxes, on a pipeline with LoadRegionFeatures)'
                )
            boxes = field(proposals, 'bboxes')
            labels = field(proposals, 'labels')
            if boxes is None or labels is None:
                raise KeyError(f'BoxErrorMetric: the proposals of sample {name} lack bboxes/labels')
            boxes, labels = boxes.detach().cpu(), labels.detach().cpu()
            answers = answers.detach().float().cpu()
            gt_boxes, index = gt_boxes_and_index(sample)
            # one entry per sample: the evaluator truncates results to the dataset size
            self.results.append(
                [
                    box_error_kind(
                        answers[p, 0],
                        gt_boxes[index == p],
                        boxes,
                        labels,
                        iou_thr=self.iou_thr,
                        near_thr=self.near_thr,
                        strict_iou=self.strict_iou,
                    )
                    for p in range(answers.shape[0])
                    if bool((index == p).any())
                ]
            )

    def compute_metrics(self, results: list) -> dict:
        results = [phrase for sample in results for phrase in sample]
        n = len(results)

        def share(count: int) -> float:
            return 100.0 * count / n if n else 0.0

        metrics = {}
        for kind in BOX_ERROR_KINDS:
            rows = [r for r in results if r['kind'] == kind]
            metrics[kind] = share(len(rows))
            if kind != 'correct':
                metrics[f'{kind}_same_label'] = share(sum(r['same_label_holds'] for r in rows))
        metrics['oracle'] = share(sum(r['oracle'] for r in results))
        metrics['phrases'] = float(n)
        return metrics
