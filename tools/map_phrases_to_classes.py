"""Map every phrase of a dataset to a detector class (CKD's head noun + WordNet rule).

    python tools/map_phrases_to_classes.py configs/_base_/datasets/synthground_flickr30k.py \\
        (--cache data/synthground/regions/<detector> | --classes person,dog,car | \\
         --classes-file classes.txt) [--loader train] [--top 20] [--out mapping.json] \\
        [--cfg-options train_dataloader.dataset.data_root=...]

Prints the coverage report: the share of phrases (and of distinct phrase texts) mapped to a
class, by rule (head / synonym / hypernym), phrases per class, and the most frequent head
nouns that map to nothing. ``--out`` writes the report and the mapping of every distinct
phrase text as JSON.
"""
import argparse
import json
import os.path as osp
from collections import Counter

from mmengine.config import Config, DictAction

from mmgrounding.registry import DATASETS
from mmgrounding.text import head_noun, match_phrase_to_classes
from mmgrounding.utils import register_all_modules


def load_class_names(*, cache: str | None = None, classes: str | None = None,
                     classes_file: str | None = None) -> list[str]:
    """Class names from a region cache's meta.json, a comma list or a one-a-line file."""
    if cache is not None:
        with open(osp.join(cache, 'meta.json'), encoding='utf-8') as f:
            return list(json.load(f)['detector']['classes'])
    if classes is not None:
        return [c.strip() for c in classes.split(',') if c.strip()]
    if classes_file is not None:
        with open(classes_file, encoding='utf-8') as f:
            return [line.strip() for line in f if line.strip()]
    raise ValueError('give a region cache, a class list or a class file')


def dataset_phrases(config: str, *, loader: str = 'train',
                    cfg_options: dict | None = None) -> list[str]:
    """The text of every phrase of a config's ``<loader>_dataloader`` dataset, in order."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.get(f'{loader}_dataloader') is None:
        raise SystemExit(f'{config} has no {loader}_dataloader')
    dataset_cfg = dict(cfg[f'{loader}_dataloader'].dataset, pipeline=[], serialize_data=False)
    dataset = DATASETS.build(dataset_cfg)
    return [phrase['text'] for index in range(len(dataset))
            for phrase in dataset.get_data_info(index).get('phrases', [])]


def phrase_coverage(phrases: list[str], class_names: list[str], *, top: int = 20) -> dict:
    """Coverage of ``match_phrase_to_classes`` over ``phrases`` (each phrase text once).

    Returns:
        dict with ``phrases``, ``mapped`` and ``mapped_percent`` (over all phrases),
        ``distinct`` / ``distinct_mapped``, ``by_how`` (phrase counts per rule),
        ``by_class`` (phrase counts per class name), ``top_unmapped_heads`` ([head, count]
        pairs, most frequent first) and ``mapping`` (text -> [class name, how] or None).
    """
    counts = Counter(phrases)
    mapping, by_how, by_class, unmapped = {}, Counter(), Counter(), Counter()
    for text in sorted(counts):
        match = match_phrase_to_classes(text, class_names)
        mapping[text] = None if match is None else [class_names[match[0]], match[1]]
        if match is None:
            unmapped[head_noun(text)] += counts[text]
        else:
            by_how[match[1]] += counts[text]
            by_class[class_names[match[0]]] += counts[text]
    mapped = sum(by_how.values())
    return dict(
        phrases=len(phrases), mapped=mapped,
        mapped_percent=100.0 * mapped / max(len(phrases), 1),
        distinct=len(counts), distinct_mapped=sum(v is not None for v in mapping.values()),
        by_how={how: by_how[how] for how in ('head', 'synonym', 'hypernym')},
        by_class=dict(by_class.most_common()),
        top_unmapped_heads=[[h, c] for h, c in sorted(unmapped.items(),
                                                      key=lambda hc: (-hc[1], hc[0]))[:top]],
        mapping=mapping)


def format_report(report: dict) -> str:
    n = max(report['phrases'], 1)
    lines = [f"phrases mapped: {report['mapped']} / {report['phrases']} "
             f"({report['mapped_percent']:.2f}%); distinct texts: "
             f"{report['distinct_mapped']} / {report['distinct']}"]
    lines += [f'  by {how}: {count} ({100.0 * count / n:.2f}%)'
              for how, count in report['by_how'].items()]
    lines.append('phrases per class: ' + ', '.join(
        f'{name} {count}' for name, count in report['by_class'].items()))
    lines.append('top unmapped head nouns: ' + ', '.join(
        f'{head} ({count})' for head, count in report['top_unmapped_heads']))
    return '\n'.join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a dataset (or model) config')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--cache', help='a region cache; its meta.json gives the classes')
    source.add_argument('--classes', help='comma-separated class names')
    source.add_argument('--classes-file', help='one class name a line')
    parser.add_argument('--loader', choices=['train', 'val', 'test'], default='train')
    parser.add_argument('--top', type=int, default=20, help='unmapped head nouns to list')
    parser.add_argument('--out', help='write the report and the mapping as JSON')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    register_all_modules()
    class_names = load_class_names(cache=args.cache, classes=args.classes,
                                   classes_file=args.classes_file)
    phrases = dataset_phrases(args.config, loader=args.loader, cfg_options=args.cfg_options)
    report = phrase_coverage(phrases, class_names, top=args.top)
    print(format_report(report))
    if args.out:
        with open(args.out, 'w', encoding='utf-8') as f:
            json.dump(dict(report, classes=class_names, config=args.config,
                           loader=args.loader), f, indent=1)


if __name__ == '__main__':
    main()
