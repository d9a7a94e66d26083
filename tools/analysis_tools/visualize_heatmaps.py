"""Draw a model's grounding of test phrases: one figure per (image, caption) -> PNG.

    python tools/analysis_tools/visualize_heatmaps.py CONFIG [CHECKPOINT] --out-dir DIR \\
        [--num 16] [--max-phrases 6] [--columns 3] [--min-side 320] \\
        [--cfg-options test_dataloader.dataset.data_root=...]

Each figure (``GroundingVisualizer``) has the caption on top and a panel per phrase: the
phrase in a strip above the image, the image upscaled (nearest neighbour) so its shorter side
has at least ``--min-side`` pixels, the heatmap over it, the ground-truth boxes in green, the
top predicted box in magenta, the predicted point (heatmap peak or top-box centre, as the
config's ``PointingGameMetric`` in ``test_evaluator`` takes it: its protocol and source; the
grid protocol without one) as a green (hit) or red (miss) dot, and a HIT / MISS strip below.
Hits are tested against the boxes the metric tests against: under the official protocols the
official code's boxes (the dataset's ``METAINFO['box_convention']``, or the metric's
``box_convention``).
"""
import argparse
import os
import os.path as osp

import mmcv
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.fileio import get
from mmengine.runner import load_checkpoint

from mmgrounding.evaluation.functional import OFFICIAL_BOX_PROTOCOLS
from mmgrounding.evaluation.metrics.utils import box_convention_of
from mmgrounding.registry import DATASETS, METRICS, MODELS, VISUALIZERS
from mmgrounding.utils import register_all_modules


def pointing_metric(cfg: Config):
    """The config's test ``PointingGameMetric``, built, or None when it has none."""
    evaluator = cfg.get('test_evaluator') or []
    metrics = evaluator.get('metrics', evaluator) if isinstance(evaluator, dict) else evaluator
    for metric in metrics if isinstance(metrics, (list, tuple)) else [metrics]:
        if metric.get('type') == 'PointingGameMetric':
            return METRICS.build(metric)
    return None


def evaluator_protocol(cfg: Config):
    """The pointing protocol of the config's test ``PointingGameMetric`` (with its
    ``source``), or ``'grid'`` when the test evaluator has none."""
    metric = pointing_metric(cfg)
    return 'grid' if metric is None else metric.spec


def figure_pointing(cfg: Config, dataset_meta: dict) -> dict:
    """``GroundingVisualizer``'s ``protocol``, ``box_convention`` and ``official_boxes``, so
    that the figures test each hit as the config's ``PointingGameMetric`` does on a dataset
    with ``dataset_meta`` (its ``METAINFO``)."""
    metric = pointing_metric(cfg)
    if metric is None:
        return dict(protocol='grid', box_convention='continuous', official_boxes=False)
    metric.dataset_meta = dataset_meta
    return dict(
        protocol=metric.spec,
        box_convention=box_convention_of(metric),
        official_boxes=metric.protocol in OFFICIAL_BOX_PROTOCOLS,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', nargs='?', default=None)
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--num', type=int, default=16, help='samples to draw')
    parser.add_argument('--max-phrases', type=int, default=6, help='panels per figure')
    parser.add_argument('--columns', type=int, default=3, help='panels per row')
    parser.add_argument('--min-side', type=int, default=320,
                        help='upscale each image so its shorter side has this many pixels')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()

    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    model = MODELS.build(cfg.model)
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.eval()
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    pointing = figure_pointing(cfg, dataset.metainfo)
    print(f'pointing protocol of the figures: {pointing}')
    visualizer = VISUALIZERS.build(dict(type='GroundingVisualizer', name='heatmap_tool',
                                        max_phrases=args.max_phrases, columns=args.columns,
                                        min_side=args.min_side, **pointing))
    os.makedirs(args.out_dir, exist_ok=True)
    step = max(1, len(dataset) // args.num)
    for index in range(0, min(len(dataset), step * args.num), step):
        batch = model.data_preprocessor(pseudo_collate([dataset[index]]), False)
        with torch.no_grad():
            sample = model(**batch, mode='predict')[0]
        image = mmcv.imfrombytes(get(sample.metainfo['img_path']), channel_order='rgb')
        name = f"{sample.metainfo['img_id']}_{sample.metainfo.get('caption_id', 0)}.png"
        visualizer.add_datasample(name, image, data_sample=sample,
                                  out_file=osp.join(args.out_dir, name))
    print(f'wrote {len(range(0, min(len(dataset), step * args.num), step))} pictures to '
          f'{args.out_dir}')


if __name__ == '__main__':
    main()
