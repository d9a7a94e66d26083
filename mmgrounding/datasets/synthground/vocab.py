"""A WordPiece vocabulary (BERT ``vocab.txt``) trained on a build's text.

Real data uses bert-base-uncased's vocabulary; SynthGround's small text encoders use one of
its own words, learned on the COCO-captions and Visual Genome files of the build.

The learning is the WordPiece training of the `tokenizers` library (``BertWordPieceTokenizer.
train``: BPE merges with the ``##`` continuing-subword prefix) written out here because that
one is not deterministic: ``tokenizers`` (0.23) numbers the ``##`` pieces in the iteration order
of a randomly seeded hash map and breaks ties between equally frequent pairs by those numbers,
so two runs on the same texts give different vocabularies (huggingface/tokenizers#1794; on the
150-image learning build of the tests, 513 tokens each, 40 apart), and every model trained on
them differs. Here the ``##`` characters are numbered in sorted order, after the sorted
alphabet, and ties go, as in `tokenizers`, to the pair of smallest ids: one of the runs
`tokenizers` can make, always the same one. Text is normalised and split into words by
`tokenizers`' own BERT normaliser and pre-tokeniser, so the words are the ones BERT's
tokenizer sees.
"""

import collections
import glob
import json
import os
import os.path as osp

from tokenizers.normalizers import BertNormalizer
from tokenizers.pre_tokenizers import BertPreTokenizer

SPECIAL_TOKENS = ('[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]')  # BertWordPieceTokenizer's
PREFIX = '##'


def collect_texts(data_root: str) -> list[str]:
    """Captions (``coco/annotations/captions_*.json``) and VG region descriptions/attributes."""
    texts = []
    for path in sorted(glob.glob(osp.join(data_root, 'coco', 'annotations', 'captions_*.json'))):
        with open(path) as f:
            texts.extend(a['caption'] for a in json.load(f)['annotations'])
    regions = osp.join(data_root, 'vg', 'region_descriptions.json')
    if osp.isfile(regions):
        with open(regions) as f:
            texts.extend(r['phrase'] for image in json.load(f) for r in image['regions'])
    attributes = osp.join(data_root, 'vg', 'attributes.json')
    if osp.isfile(attributes):
        with open(attributes) as f:
            for image in json.load(f):
                for obj in image['attributes']:
                    texts.append(' '.join(obj.get('attributes', []) + obj.get('names', [])))
    if not texts:
        raise FileNotFoundError(f'no captions or region descriptions under {data_root}')
    return texts


def count_words(texts: list[str]) -> collections.Counter:
    """Words of ``texts`` after BERT's uncased normalisation and pre-tokenisation, counted."""
    normalizer = BertNormalizer(clean_text=True, handle_chinese_chars=True, lowercase=True)
    pre_tokenizer = BertPreTokenizer()
    counts = collections.Counter()
    for text in texts:
        counts.update(w for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)))
    return counts


def learn_wordpiece(
    word_counts: dict[str, int], *, vocab_size: int = 1000, min_frequency: int = 1
) -> list[str]:
    """The WordPiece vocabulary of ``word_counts``, in id order: the special tokens, every
    character (sorted), the ``##`` characters (sorted), then one token per merge.

    Each word starts as its first character followed by ``##`` characters; the most frequent
    adjacent pair (counted over the words' occurrences; ties: the pair of smallest ids, left
    first, as `tokenizers` breaks them) is merged everywhere into one token (``a`` + ``##b``
    -> ``ab``, ``##a`` + ``##b`` -> ``##ab``) until the vocabulary has ``vocab_size`` tokens,
    no pair occurs ``min_frequency`` times, or every word is one token."""
    words = sorted(word_counts)  # a fixed order: nothing below depends on hashing
    pieces = [[w[0]] + [PREFIX + c for c in w[1:]] for w in words]
    counts = [word_counts[w] for w in words]
    vocab = list(SPECIAL_TOKENS)
    vocab += sorted({c for w in words for c in w} - set(vocab))
    vocab += sorted({p for word in pieces for p in word[1:]} - set(vocab))
    ids = {token: i for i, token in enumerate(vocab)}
    while len(vocab) < vocab_size:
        pairs = collections.Counter()
        for word, count in zip(pieces, counts):
            for pair in zip(word, word[1:]):
                pairs[pair] += count
        if not pairs:
            break
        (left, right), count = min(
            pairs.items(), key=lambda item: (-item[1], ids[item[0][0]], ids[item[0][1]])
        )
        if count < min_frequency:
            break
        token = left + right[len(PREFIX) :]
        if token not in ids:
            ids[token] = len(vocab)
            vocab.append(token)
        for i, word in enumerate(pieces):
            if len(word) < 2:
                continue
            merged, j = [], 0
            while j < len(word):
                if j + 1 < len(word) and word[j] == left and word[j + 1] == right:
                    merged.append(token)
                    j += 2
                else:
                    merged.append(word[j])
                    j += 1
            pieces[i] = merged
    return vocab


def train_vocab(texts: list[str], out_file: str, *, vocab_size: int = 1000) -> int:
    """Learn the vocabulary of ``texts`` (:func:`learn_wordpiece`) and write it to ``out_file``
    (BERT's ``vocab.txt``: one token per line, in id order) atomically; returns its size."""
    from mmgrounding.utils.atomic import atomic_open

    vocab = learn_wordpiece(count_words(texts), vocab_size=vocab_size)
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    with atomic_open(out_file, 'w') as f:
        f.write(''.join(token + '\n' for token in vocab))
    return len(vocab)
