"""Train a small WordPiece vocabulary (BERT ``vocab.txt``) on a dataset's text.

    python tools/dataset_converters/train_wordpiece.py data/synthground \\
        --out data/synthground/vocab.txt
"""
import argparse

from mmgrounding.datasets.synthground.vocab import collect_texts, train_vocab


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('data_root')
    parser.add_argument('--out', required=True, help='vocab.txt to write')
    parser.add_argument('--vocab-size', type=int, default=1000)
    args = parser.parse_args()
    size = train_vocab(collect_texts(args.data_root), args.out, vocab_size=args.vocab_size)
    print(f'wrote {args.out}: {size} tokens')


if __name__ == '__main__':
    main()
