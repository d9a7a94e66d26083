"""Write the word vocabulary of a dataset's training phrases (CKD's phrase LSTM).

    python tools/build_phrase_vocab.py configs/_base_/datasets/synthground_flickr30k.py \\
        --out data/synthground/ckd_phrase_vocab.txt [--loader train] [--min-count 1] \
        [--max-words 13000] [--data-root data/synthground-seed1/]

Words come from ``mmgrounding.text.word_tokenize``; the file starts with ``[PAD]`` and
``[UNK]``, then the words by decreasing count (``mmgrounding.text.build_word_vocab``);
``--max-words`` keeps the most frequent ones (CKD: the 13k most frequent Flickr30k words,
the same vocabulary for ReferIt).
"""
import argparse
import importlib.util
import os
import os.path as osp

from mmgrounding.text import build_word_vocab, write_word_vocab
from mmgrounding.utils import register_all_modules


def _dataset_phrases():
    path = osp.join(osp.dirname(osp.abspath(__file__)), 'map_phrases_to_classes.py')
    spec = importlib.util.spec_from_file_location('map_phrases_to_classes', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dataset_phrases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--out', required=True)
    parser.add_argument('--loader', choices=['train', 'val', 'test'], default='train')
    parser.add_argument('--min-count', type=int, default=1)
    parser.add_argument('--max-words', type=int, help='keep the N most frequent words')
    parser.add_argument('--data-root', help='override the data_root of the dataset')
    args = parser.parse_args()
    register_all_modules()
    overrides = None
    if args.data_root is not None:
        overrides = {f'{args.loader}_dataloader.dataset.data_root': args.data_root}
    phrases = _dataset_phrases()(args.config, loader=args.loader, cfg_options=overrides)
    words = build_word_vocab(phrases, min_count=args.min_count)
    if args.max_words is not None:
        words = words[:2 + args.max_words]  # [PAD], [UNK], then by decreasing count
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    write_word_vocab(words, args.out)
    print(f'{len(words)} words ({len(phrases)} phrases) -> {args.out}')


if __name__ == '__main__':
    main()
