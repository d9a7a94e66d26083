"""tools/build_phrase_vocab.py: CKD's vocabulary, the most frequent words of the training
phrases (``--max-words``: the paper's 13k most frequent Flickr30k words)."""

import os.path as osp
import subprocess
import sys
from collections import Counter

from mmgrounding.text import read_word_vocab, word_tokenize

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'build_phrase_vocab.py')
BASE = osp.join(REPO, 'configs', '_base_', 'datasets', 'synthground_flickr30k.py')


def build(config, out, *extra):
    proc = subprocess.run(
        [sys.executable, TOOL, str(config), '--out', str(out), *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return read_word_vocab(str(out))


def test_max_words_keeps_the_most_frequent_words(synthground_root, tmp_path):
    config = tmp_path / 'vocab_config.py'
    config.write_text(
        f'_base_ = [{BASE!r}]\n'
        f'train_dataloader = dict(dataset=dict(data_root={synthground_root!r}))\n'
    )
    full = build(config, tmp_path / 'full.txt')
    kept = build(config, tmp_path / 'kept.txt', '--max-words', '5')
    assert full[:2] == kept[:2] == ['[PAD]', '[UNK]']
    assert kept == full[:7] and len(full) > 7
    # the five kept are the five most frequent words of the training phrases: no word left
    # out is more frequent than the least frequent one kept
    counts = Counter(training_phrase_words(synthground_root))
    assert min(counts[w] for w in kept[2:]) >= max(counts[w] for w in full[7:])
    # a cap above the vocabulary's size keeps every word
    assert build(config, tmp_path / 'all.txt', '--max-words', '13000') == full


def training_phrase_words(root: str) -> list[str]:
    from mmgrounding.registry import DATASETS
    from mmgrounding.utils import register_all_modules

    register_all_modules()
    dataset = DATASETS.build(
        dict(
            type='Flickr30kEntitiesDataset',
            data_root=root,
            ann_file='flickr30k_entities/train.txt',
            data_prefix=dict(
                img='images/',
                annotations='flickr30k_entities/Annotations/',
                sentences='flickr30k_entities/Sentences/',
            ),
            pipeline=[],
        )
    )
    return [
        word
        for index in range(len(dataset))
        for phrase in dataset.get_data_info(index)['phrases']
        for word in word_tokenize(phrase['text'])
    ]


def test_data_root_reads_another_build(synthground_root, tmp_path):
    # the dataset config spells data/synthground/; --data-root reads the build given
    config = tmp_path / 'vocab_config.py'
    config.write_text(
        f'_base_ = [{BASE!r}]\n'
        f'train_dataloader = dict(dataset=dict(data_root={synthground_root!r}))\n'
    )
    moved = build(BASE, tmp_path / 'moved.txt', '--data-root', synthground_root)
    assert moved == build(config, tmp_path / 'direct.txt')
    assert set(moved[2:]) == set(training_phrase_words(synthground_root))
