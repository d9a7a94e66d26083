"""Print images, queries, phrases and boxes (per phrase type) of any dataset config.

    python tools/analysis_tools/dataset_stats.py configs/_base_/datasets/synthground_flickr30k.py \\
        [--loader test] [--cfg-options test_dataloader.dataset.data_root=...]
"""
import argparse
from collections import Counter

from mmengine.config import Config, DictAction

from mmgrounding.registry import DATASETS
from mmgrounding.text.relation_vocab import caption_relations
from mmgrounding.utils import register_all_modules


def dataset_stats(dataset) -> dict:
    """Counts over a dataset's data list (no image is read).

    ``queries`` is the number of items (a caption, a referring sentence, a triplet; an image
    for caption datasets grouped by image), ``phrases`` the grounded phrases in them.
    ``relation_degrees`` counts the phrases of captioned items by how many of the caption's
    other phrases a relation links them to (ReIR's visual object graph, one edge per pair of
    consecutive phrases with words between them: ``mmgrounding.text.relation_phrases``); a
    graph whose nodes all have at most one neighbour gives learned and uniform edge weights
    the same softmax.
    """
    images, phrases, boxes = set(), 0, 0
    degrees: Counter = Counter()
    by_type: Counter = Counter()
    boxes_by_type: Counter = Counter()
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        images.add(info['img_id'])
        spans = [p.get('span') for p in info.get('phrases', [])]
        if info.get('caption') and spans and all(span is not None for span in spans):
            linked: Counter = Counter()
            for i, j, _ in caption_relations(info['caption'], spans):
                linked[i] += 1
                linked[j] += 1
            degrees.update(linked[k] for k in range(len(spans)))
        for phrase in info.get('phrases', []):
            phrases += 1
            num_boxes = len(phrase.get('boxes_xyxy', []))
            boxes += num_boxes
            for phrase_type in phrase.get('types') or ['(none)']:
                by_type[phrase_type] += 1
                boxes_by_type[phrase_type] += num_boxes
    return dict(images=len(images), queries=len(dataset), phrases=phrases, boxes=boxes,
                phrases_per_type=dict(sorted(by_type.items())),
                boxes_per_type=dict(sorted(boxes_by_type.items())),
                relation_degrees=dict(sorted(degrees.items())))


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
