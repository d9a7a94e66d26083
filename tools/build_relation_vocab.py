"""Write ReIR's relation classes C_r (and the caption words) of a dataset's training split.

    python tools/build_relation_vocab.py configs/_base_/datasets/synthground_flickr30k.py \\
        --out data/synthground/reir/relation_vocab.txt [--min-count 100] [--loader train] \\
        [--word-vocab-out data/synthground/reir/caption_vocab.txt]

A relation is the text between two consecutive entity phrases of a caption
(``mmgrounding.text.relation_phrases``); the classes are those seen more than
``--min-count`` times (the paper: frequency > 100, 88 classes on Flickr30k), one
``relation<TAB>count`` a line, most frequent first. ``--word-vocab-out`` also writes the
word vocabulary of the training captions (ReIR's caption LSTM).
"""

import argparse
import os
import os.path as osp

from mmengine.config import Config

from mmgrounding.registry import DATASETS
from mmgrounding.text import build_word_vocab, write_word_vocab
from mmgrounding.text.relation_vocab import count_relations, relation_classes, write_relation_vocab
from mmgrounding.utils import register_all_modules


def dataset_captions(
    config: str, *, loader: str = 'train', data_root: str | None = None
) -> list[tuple[str, list]]:
    """``(caption, phrase spans)`` of every sample of a config's ``<loader>_dataloader``
    (``data_root``: in place of its dataset's)."""
    cfg = Config.fromfile(config)
    if cfg.get(f'{loader}_dataloader') is None:
        raise SystemExit(f'{config} has no {loader}_dataloader')
    dataset_cfg = dict(cfg[f'{loader}_dataloader'].dataset, pipeline=[], serialize_data=False)
    if data_root is not None:
        dataset_cfg['data_root'] = data_root
    dataset = DATASETS.build(dataset_cfg)
    samples = []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        samples.append(
            (info['caption'], [tuple(p.get('span', (-1, -1))) for p in info.get('phrases', [])])
        )
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--out', required=True)
    parser.add_argument('--loader', choices=['train', 'val', 'test'], default='train')
    parser.add_argument(
        '--min-count',
        type=int,
        default=100,
        help='keep relations seen more than this many times (paper: 100)',
    )
    parser.add_argument('--word-vocab-out', help='also write the caption word vocabulary')
    parser.add_argument('--data-root', help='override the data_root of the dataset')
    args = parser.parse_args()
    register_all_modules()
    samples = dataset_captions(args.config, loader=args.loader, data_root=args.data_root)
    counts = count_relations(samples)
    classes = relation_classes(counts, min_count=args.min_count)
    write_relation_vocab(classes, args.out)
    linked = sum(counts.values())
    covered = sum(n for _, n in classes)
    print(
        f'{len(classes)} relation classes (of {len(counts)} distinct relations; '
        f'{covered} of {linked} linked pairs = {100 * covered / max(linked, 1):.1f}%) '
        f'-> {args.out}'
    )
    if args.word_vocab_out:
        words = build_word_vocab(caption for caption, _ in samples)
        os.makedirs(osp.dirname(osp.abspath(args.word_vocab_out)), exist_ok=True)
        write_word_vocab(words, args.word_vocab_out)
        print(f'{len(words)} caption words ({len(samples)} captions) -> {args.word_vocab_out}')


if __name__ == '__main__':
    main()
