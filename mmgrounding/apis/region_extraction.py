"""Detector proposals and region features through mmdet's own model.

A two-stage mmdet detector (Faster R-CNN, Mask R-CNN: ``TwoStageDetector`` with a
``StandardRoIHead``) runs as in ``model.predict``: backbone and neck, RPN proposals, box
head, per-class NMS (``roi_head.predict_bbox``, with ``max_per_img = topk``). For each kept
box the detector's own RoI extractor (mmcv.ops RoIAlign) and box head run once more on the
box itself; the input of the classifier ``fc_cls`` (after the shared fully connected layers)
is the box's feature, and the softmax of its output the class probabilities. The box, its
score and label are those of the detection; the feature and probabilities describe exactly
that box.

:func:`extract_to_cache` runs this over a list of images into a
:class:`~mmgrounding.datasets.region_cache.RegionCache`, skipping images that have an entry
and splitting the rest over the processes of a distributed run.
"""
import copy
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from mmdet.structures.bbox import bbox2roi, scale_boxes
from mmengine.config import Config, ConfigDict
from mmengine.dataset import Compose, pseudo_collate
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from mmgrounding.datasets.region_cache import RegionCache


@contextmanager
def capture_inputs(module: nn.Module) -> Iterator[list[Tensor]]:
    """Collect the first positional input of every ``module`` call inside the block.

    The forward pre-hook is removed when the block exits, also on errors.
    """
    captured: list[Tensor] = []
    handle = module.register_forward_pre_hook(lambda _, args: captured.append(args[0]))
    try:
        yield captured
    finally:
        handle.remove()


def check_two_stage(model: nn.Module) -> None:
    """Raise a ValueError unless ``model`` has what region extraction uses."""
    roi_head = getattr(model, 'roi_head', None)
    bbox_head = getattr(roi_head, 'bbox_head', None)
    if (getattr(model, 'rpn_head', None) is None or bbox_head is None
            or not hasattr(roi_head, 'predict_bbox') or isinstance(bbox_head, nn.ModuleList)
            or not isinstance(getattr(bbox_head, 'fc_cls', None), nn.Linear)):
        raise ValueError(
            f'{type(model).__name__} is not a two-stage detector with one box head and a '
            'linear classifier (Faster R-CNN, Mask R-CNN); cascades are not supported')


def region_test_cfg(model: nn.Module,
                    *,
                    topk: int,
                    score_thr: float,
                    nms_iou: float | None = None) -> ConfigDict:
    """The detector's R-CNN test config with ``max_per_img=topk`` and ``score_thr``.

    Args:
        model: the detector.
        topk: boxes kept per image after NMS.
        score_thr: smallest class score of a kept box (0 keeps up to ``topk`` boxes on every
            image that has that many proposals).
        nms_iou: IoU threshold of the per-class NMS (default: the detector's).
    """
    cfg = ConfigDict(copy.deepcopy(dict(model.roi_head.test_cfg)))
    cfg.max_per_img = topk
    cfg.score_thr = score_thr
    if nms_iou is not None:
        cfg.nms = dict(cfg.get('nms') or dict(type='nms'), iou_threshold=nms_iou)
    return cfg


def _class_probs(bbox_head: nn.Module, cls_score: Tensor) -> Tensor:
    # as mmdet's BBoxHead._predict_by_feat_single
    if getattr(bbox_head, 'custom_cls_channels', False):
        return bbox_head.loss_cls.get_activation(cls_score)
    return F.softmax(cls_score, dim=-1)


@torch.no_grad()
def extract_regions(model: nn.Module, data: dict, *, rcnn_test_cfg: ConfigDict) -> list[dict]:
    """Detections with their RoI features for one batch of a detector's test pipeline.

    Args:
        model: an mmdet two-stage detector in eval mode.
        data: a collated batch (``inputs``, ``data_samples`` with ``ori_shape`` and
            ``scale_factor`` in their metainfo), before the data preprocessor.
        rcnn_test_cfg: from :func:`region_test_cfg`.

    Returns:
        Per image, numpy arrays: ``boxes_xyxy`` (K, 4) float32 in original image pixels,
        ``scores`` (K,), ``labels`` (K,), ``features`` (K, D), ``class_probs`` (K, C+1) and
        ``image_hw`` (2,); K ≤ ``rcnn_test_cfg.max_per_img``, best first.
    """
    data = model.data_preprocessor(data, False)
    samples = data['data_samples']
    metas = [s.metainfo for s in samples]
    feats = model.extract_feat(data['inputs'])
    proposals = model.rpn_head.predict(feats, samples, rescale=False)
    roi_head = model.roi_head
    bbox_head = roi_head.bbox_head
    detections = roi_head.predict_bbox(feats, metas, proposals, rcnn_test_cfg, rescale=False)
    boxes = [d.bboxes for d in detections]  # (K_i, 4) in the network input frame
    num_boxes = [len(b) for b in boxes]
    if sum(num_boxes) > 0:
        with capture_inputs(bbox_head.fc_cls) as captured:
            cls_score = roi_head._bbox_forward(feats, bbox2roi(boxes))['cls_score']
        region_feats = captured[0].flatten(1)  # (sum K_i, D)
        probs = _class_probs(bbox_head, cls_score)  # (sum K_i, C+1)
    else:
        region_feats = feats[0].new_zeros((0, bbox_head.fc_cls.in_features))
        probs = feats[0].new_zeros((0, bbox_head.fc_cls.out_features))

    results = []
    for meta, det, box, feat, prob in zip(metas, detections, boxes,
                                          region_feats.split(num_boxes),
                                          probs.split(num_boxes)):
        height, width = meta['ori_shape'][:2]
        # network input frame -> original image, as mmdet's rescale=True
        box = scale_boxes(box, [1 / s for s in meta['scale_factor']])
        box[:, 0::2] = box[:, 0::2].clamp(0, width)
        box[:, 1::2] = box[:, 1::2].clamp(0, height)
        results.append(
            dict(boxes_xyxy=box.float().cpu().numpy(),
                 scores=det.scores.float().cpu().numpy(),
                 labels=det.labels.cpu().numpy().astype(np.int32),
                 features=feat.float().cpu().numpy(),
                 class_probs=prob.float().cpu().numpy(),
                 image_hw=np.array([height, width], np.int32)))
    return results


def detector_test_pipeline(cfg: Config) -> list[dict]:
    """The detector's test pipeline without its annotation loading."""
    pipeline = cfg.get('test_pipeline') or cfg.test_dataloader.dataset.pipeline
    return [copy.deepcopy(t) for t in pipeline if 'Annotations' not in str(t['type'])]


def dataset_images(dataset) -> list[dict]:
    """The distinct images of a grounding dataset: ``dict(img_id, img_path)``, sorted by id.

    Grounding datasets have one item per caption or query; an image is listed once.
    """
    images = {}
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        if info.get('img_id') is None or not info.get('img_path'):
            raise KeyError(f'item {index} of {type(dataset).__name__} has no img_id/img_path')
        img_id = str(info['img_id'])
        previous = images.setdefault(img_id, dict(img_id=img_id, img_path=info['img_path']))
        if previous['img_path'] != info['img_path']:
            raise ValueError(f"image {img_id} has two files: {previous['img_path']} and "
                             f"{info['img_path']}")
    return [images[k] for k in sorted(images)]


class _ImageList(Dataset):
    """Images through a detector's test pipeline (built in the detector's scope)."""

    def __init__(self, images: Sequence[dict], pipeline: list[dict], scope: str) -> None:
        self.images = list(images)
        with DefaultScope.overwrite_default_scope(scope):
            self.pipeline = Compose(pipeline)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict:
        return self.pipeline(dict(self.images[index]))


def extract_to_cache(model: nn.Module,
                     images: Sequence[dict],
                     cache: RegionCache,
                     *,
                     pipeline: list[dict],
                     rcnn_test_cfg: ConfigDict,
                     scope: str = 'mmdet',
                     feature_dtype: str = 'float32',
                     batch_size: int = 1,
                     num_workers: int = 0,
                     rank: int = 0,
                     world_size: int = 1,
                     max_images: int | None = None,
                     log_interval: int = 50) -> dict:
    """Write the entries of ``images`` that the cache does not hold yet.

    The missing images are split over the processes (``rank::world_size``); each process
    writes its own entries, each atomically. Call it in every process at the same time
    (nothing here synchronises them).

    Args:
        model: the detector (eval mode).
        images: ``dict(img_id, img_path)`` from :func:`dataset_images`.
        cache: the cache to fill.
        pipeline: the detector's test pipeline (:func:`detector_test_pipeline`).
        rcnn_test_cfg: from :func:`region_test_cfg`.
        scope: the registry scope the pipeline's transforms are looked up in.
        feature_dtype: ``'float32'`` or ``'float16'`` for ``features`` and ``class_probs``.
        batch_size: images per forward pass. With 1 (the default) an image's entry does
            not depend on which other images share its batch, so a resumed or distributed
            run writes the same numbers as one uninterrupted process.
        num_workers: dataloader workers.
        rank: this process.
        world_size: number of processes.
        max_images: stop after this many images of this process (for tests and trials).
        log_interval: log progress every this many images.

    Returns:
        ``dict(done, written, seconds)``: images already in the cache, images written by
        this process, and the time it took.
    """
    pending = [im for im in images if im['img_id'] not in cache]
    mine = pending[rank::world_size][:max_images]
    stats = dict(done=len(images) - len(pending), written=0, seconds=0.0)
    if not mine:
        return stats
    loader = DataLoader(_ImageList(mine, pipeline, scope), batch_size=batch_size,
                        num_workers=num_workers, collate_fn=pseudo_collate, shuffle=False)
    logger = MMLogger.get_current_instance()
    start = time.perf_counter()
    for batch in loader:
        for sample, entry in zip(batch['data_samples'],
                                 extract_regions(model, batch, rcnn_test_cfg=rcnn_test_cfg)):
            entry['features'] = entry['features'].astype(feature_dtype)
            entry['class_probs'] = entry['class_probs'].astype(feature_dtype)
            cache.write(str(sample.metainfo['img_id']), entry)
            stats['written'] += 1
            if stats['written'] % log_interval == 0 or stats['written'] == len(mine):
                elapsed = time.perf_counter() - start
                logger.info(f"rank {rank}: {stats['written']}/{len(mine)} images, "
                            f"{stats['written'] / elapsed:.1f} images/s")
    stats['seconds'] = time.perf_counter() - start
    return stats
