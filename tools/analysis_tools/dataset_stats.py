"""Print images, queries, phrases and boxes (per phrase type) of any dataset config.

    python tools/analysis_tools/dataset_stats.py configs/_base_/datasets/synthground_flickr30k.py \\
        [--loader test] [--cfg-options test_dataloader.dataset.data_root=...]
"""
import argparse

from mmengine.config import Config, DictAction

from mmgrounding.datasets.stats import dataset_stats
from mmgrounding.registry import DATASETS
from mmgrounding.utils import register_all_modules


def build_dataset(config: str, *, loader: str = 'test', cfg_options: dict | None = None):
    """The dataset of a config's ``<loader>_dataloader``, without pipeline."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.get(f'{loader}_dataloader') is None:
        raise SystemExit(f'{config} has no {loader}_dataloader')
    dataset_cfg = dict(cfg[f'{loader}_dataloader'].dataset)
    dataset_cfg['pipeline'] = []
    dataset_cfg['serialize_data'] = False
    return DATASETS.build(dataset_cfg)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--loader', choices=['train', 'val', 'test'], default='test')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    register_all_modules()
    dataset = build_dataset(args.config, loader=args.loader, cfg_options=args.cfg_options)
    stats = dataset_stats(dataset)
    print(f"{type(dataset).__name__} ({args.loader}): {stats['images']} images, "
          f"{stats['queries']} queries, {stats['phrases']} phrases, {stats['boxes']} boxes")
    if stats['relation_degrees']:
        print('phrases by number of relation neighbours: ' + ', '.join(
            f'{degree}: {count}' for degree, count in stats['relation_degrees'].items()))
    if stats['phrases_per_type']:
        print('| type | phrases | boxes |\n|---|---|---|')
    for phrase_type, count in stats['phrases_per_type'].items():
        print(f"| {phrase_type} | {count} | {stats['boxes_per_type'][phrase_type]} |")


if __name__ == '__main__':
    main()
