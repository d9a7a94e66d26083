"""Proposal recall of a region cache: the ceiling of every detector-based grounding method.

    python tools/analysis_tools/proposal_recall.py CACHE_DIR \
        --dataset configs/_base_/datasets/synthground_flickr30k.py [--split test] \
        [--topk 1 10 30 100] [--iou-thr 0.5] [--out recall.json]

For every phrase of the split and each of its ground-truth boxes: is one of the image's
top-k cached boxes at IoU >= 0.5 with it? Printed per k, in percent:
- ``boxes``: share of ground-truth phrase boxes covered (a box counts once per phrase
  that names it);
- ``phrases (any)``: share of phrases with at least one covered box, the ceiling of
  BoxRecall@1 under the ``any`` protocol;
- ``phrases (union)``: share of phrases whose union box is covered (``union`` protocol).
"""
import argparse
import json

from mmengine.config import Config, DictAction
from mmengine.registry import DefaultScope

from mmgrounding.datasets.region_cache import RegionCache
from mmgrounding.evaluation.functional.proposal_recall import dataset_proposal_recall
from mmgrounding.registry import DATASETS
from mmgrounding.utils import register_all_modules


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('cache', help='region cache folder')
    parser.add_argument('--dataset', required=True, help='grounding dataset config')
    parser.add_argument('--split', choices=['train', 'val', 'test'], default='test')
    parser.add_argument('--topk', type=int, nargs='+', default=[1, 10, 30, 100])
    parser.add_argument('--iou-thr', type=float, default=0.5)
    parser.add_argument('--data-root', help='override the data_root of --dataset')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--out', help='also write the numbers to this JSON file')
    return parser.parse_args(argv)


def format_table(recall: dict, topk: tuple[int, ...]) -> str:
    lines = ['| recall (%) | ' + ' | '.join(f'@{k}' for k in topk) + ' |',
             '|---|' + '---|' * len(topk)]
    for key, name in (('boxes', 'boxes'), ('phrases_any', 'phrases (any)'),
                      ('phrases_union', 'phrases (union)')):
        lines.append(f'| {name} | ' + ' | '.join(f'{recall[key][str(k)]:.2f}' for k in topk)
                     + ' |')
    return '\n'.join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.dataset)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    dataset_cfg = dict(cfg[f'{args.split}_dataloader'].dataset, pipeline=[])
    if args.data_root:
        dataset_cfg['data_root'] = args.data_root
    with DefaultScope.overwrite_default_scope('mmgrounding'):
        dataset = DATASETS.build(dataset_cfg)
    topk = tuple(args.topk)
    recall = dataset_proposal_recall(dataset, RegionCache(args.cache), topk, iou_thr=args.iou_thr)
    print(f"{dataset_cfg['type']} ({args.split}): {recall['num_images']} images, "
          f"{recall['num_phrases']} phrases, {recall['num_boxes']} boxes; "
          f"IoU >= {args.iou_thr}")
    print(format_table(recall, topk))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(recall, f, indent=2)
    return recall


if __name__ == '__main__':
    main()
