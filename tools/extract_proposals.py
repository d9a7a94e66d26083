"""Write a region cache: an mmdet two-stage detector's top-K boxes and RoI features.

    python tools/extract_proposals.py DET_CONFIG DET_CHECKPOINT \
        --dataset GROUNDING_DATASET_CONFIG --out DIR [--topk 100] [--splits train val test]
    tools/dist_extract.sh DET_CONFIG DET_CHECKPOINT NUM_PROCS --dataset ... --out DIR

Every distinct image of the chosen splits of the grounding dataset config (its
``<split>_dataloader.dataset``) goes through the detector's test pipeline and model (see
``mmgrounding/apis/region_extraction.py``); each image's boxes, scores, labels, class
probabilities and RoI features are written to ``DIR/regions/<img_id>.npz`` atomically.
Running the command again resumes: images with an entry are skipped. ``--split-prefix``
adds a second dataset's images to a cache without replacing its split lists (``make
proposals`` adds SynthGround v2's ReferIt images as ``referit_train`` / ``_val`` /
``_test``). ``--verify`` also reads every existing entry and extracts the corrupt ones
again. The format is in ``docs/proposals.md``.
"""
import argparse
import os
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.dist import all_reduce, barrier, get_dist_info, init_dist
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

from mmgrounding.apis.region_extraction import (
    check_two_stage,
    dataset_images,
    detector_test_pipeline,
    extract_to_cache,
    region_test_cfg,
)
from mmgrounding.datasets.region_cache import RegionCache, RegionCacheError
from mmgrounding.registry import DATASETS
from mmgrounding.utils import needs_cpu_distributed, register_all_modules, setup_cpu_distributed
from mmgrounding.utils.hashing import file_sha256

SPLITS = ('train', 'val', 'test')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('det_config', help='mmdet detector config')
    parser.add_argument('det_checkpoint', help='detector checkpoint')
    parser.add_argument('--dataset', required=True, help='grounding dataset config')
    parser.add_argument('--out', required=True, help='region cache folder')
    parser.add_argument('--splits', nargs='+', choices=SPLITS, default=None,
                        help='dataloaders of --dataset to extract (default: all it has)')
    parser.add_argument('--split-prefix', default='',
                        help='record the splits as <prefix><split> (a second dataset in the same '
                        "cache: SynthGround's ReferIt split with 'referit_')")
    parser.add_argument('--topk', type=int, default=100, help='boxes kept per image')
    parser.add_argument('--score-thr', type=float, default=0.0,
                        help='smallest class score of a kept box (0: always up to topk)')
    parser.add_argument('--nms-iou', type=float, default=None,
                        help="per-class NMS IoU threshold (default: the detector's)")
    parser.add_argument('--feature-dtype', choices=('float32', 'float16'), default='float32')
    parser.add_argument('--batch-size', type=int, default=1,
                        help='images per pass; 1 makes entries independent of batching')
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument('--data-root', help='override the data_root of --dataset')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of --dataset')
    parser.add_argument('--verify', action='store_true',
                        help='read every existing entry first; extract corrupt ones again')
    parser.add_argument('--max-images', type=int, default=None,
                        help='stop after this many new images per process (trials)')
    parser.add_argument('--device', default='cuda:0' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def split_images(dataset_cfg: Config, splits: list[str] | None) -> dict[str, list[dict]]:
    """``{split: [dict(img_id, img_path), ...]}`` for the dataloaders of a dataset config."""
    splits = splits or [s for s in SPLITS if f'{s}_dataloader' in dataset_cfg]
    if not splits:
        raise KeyError('the dataset config has no train/val/test_dataloader')
    images = {}
    with DefaultScope.overwrite_default_scope('mmgrounding'):
        for split in splits:
            key = f'{split}_dataloader'
            if key not in dataset_cfg:
                raise KeyError(f'the dataset config has no {key}')
            dataset = DATASETS.build(dict(dataset_cfg[key].dataset, pipeline=[]))
            images[split] = dataset_images(dataset)
    return images


def init_distributed(launcher: str) -> None:
    if launcher == 'none':
        return
    if needs_cpu_distributed(launcher):
        setup_cpu_distributed(Config(), launcher)  # gloo; the config is not used further
    else:
        init_dist(launcher)


def build_detector(args: argparse.Namespace):
    from mmdet.apis import init_detector
    det_cfg = Config.fromfile(args.det_config)
    model = init_detector(det_cfg, args.det_checkpoint, device=args.device)
    check_two_stage(model)
    return det_cfg, model


def main(argv=None) -> dict:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    init_distributed(args.launcher)
    rank, world_size = get_dist_info()
    logger = MMLogger.get_instance('extract_proposals', log_level='INFO')

    dataset_cfg = Config.fromfile(args.dataset)
    if args.cfg_options:
        dataset_cfg.merge_from_dict(args.cfg_options)
    if args.data_root:
        for split in SPLITS:
            if f'{split}_dataloader' in dataset_cfg:
                dataset_cfg[f'{split}_dataloader'].dataset.data_root = args.data_root
    images_by_split = split_images(dataset_cfg, args.splits)
    images = {im['img_id']: im for split in images_by_split.values() for im in split}
    images = [images[k] for k in sorted(images)]

    det_cfg, model = build_detector(args)
    test_cfg = region_test_cfg(model, topk=args.topk, score_thr=args.score_thr,
                               nms_iou=args.nms_iou)
    pipeline = detector_test_pipeline(det_cfg)
    bbox_head = model.roi_head.bbox_head
    if rank == 0:
        classes = (model.dataset_meta or {}).get('classes')
        meta = dict(
            detector=dict(
                type=type(model).__name__,
                checkpoint_sha256=file_sha256(args.det_checkpoint),
                classes=list(classes) if classes else None,
                feature_layer='roi_head.bbox_head.fc_cls input'),
            extraction=dict(
                topk=args.topk,
                rcnn_test_cfg=test_cfg.to_dict(),
                rpn_test_cfg=dict(model.rpn_head.test_cfg),
                pipeline=pipeline,
                feature_dim=bbox_head.fc_cls.in_features,
                num_classes=bbox_head.num_classes,
                class_probs_dim=bbox_head.fc_cls.out_features,
                feature_dtype=args.feature_dtype,
                box_format='xyxy, original image pixels'),
            source=dict(config=args.det_config, checkpoint=args.det_checkpoint,
                        dataset=args.dataset))
        cache = RegionCache.create(args.out, meta)
        stale = cache.remove_stale_temporaries()
        if stale:
            logger.info(f'removed {len(stale)} unfinished entries of an interrupted run')
        if args.verify:
            bad = cache.verify([im['img_id'] for im in images if im['img_id'] in cache])
            for img_id, error in bad:
                logger.warning(f'corrupt entry, extracting it again: {error}')
                os.remove(cache.entry_path(img_id))
    barrier()
    cache = RegionCache(args.out)
    todo = sum(im['img_id'] not in cache for im in images)
    logger.info(f'{len(images)} images in {", ".join(images_by_split)}: {todo} to extract, '
                f'{len(images) - todo} cached, {world_size} process(es)')
    barrier()  # every process has listed the missing images before any is written
    start = time.perf_counter()
    stats = extract_to_cache(
        model, images, cache, pipeline=pipeline, rcnn_test_cfg=test_cfg,
        scope=det_cfg.get('default_scope', 'mmdet'), feature_dtype=args.feature_dtype,
        batch_size=args.batch_size, num_workers=args.num_workers, rank=rank,
        world_size=world_size, max_images=args.max_images)
    written = torch.tensor([stats['written']])
    all_reduce(written)
    barrier()
    seconds = time.perf_counter() - start
    summary = dict(images=len(images), written=int(written), seconds=round(seconds, 2),
                   images_per_s=round(int(written) / seconds, 2) if int(written) else None)
    if rank == 0:
        missing = [im['img_id'] for im in images if im['img_id'] not in cache]
        summary['missing'] = len(missing)
        if missing and args.max_images is None:
            raise RegionCacheError(f'{args.out}: {len(missing)} images have no entry, e.g. '
                                   f'{missing[:3]}')
        for split, split_list in images_by_split.items():
            cache.write_split(args.split_prefix + split, [im['img_id'] for im in split_list])
        splits = dict(cache.meta.get('splits') or {}) if args.split_prefix else {}
        splits.update({args.split_prefix + s: len(v) for s, v in images_by_split.items()})
        cache.update_meta(num_images=len(cache), splits=splits)
        logger.info(f"wrote {summary['written']} entries in {summary['seconds']} s "
                    f"({summary['images_per_s']} images/s) -> {args.out}; "
                    f"{len(images) - len(missing)}/{len(images)} images cached")
    return summary


if __name__ == '__main__':
    main()
