"""The WordPiece vocabulary of a SynthGround build: BPE merges with the ``##`` prefix, ties
broken by id, the same file in every process (``tokenizers``' own trainer is not)."""

import os
import subprocess
import sys

from mmgrounding.datasets.synthground.vocab import (
    SPECIAL_TOKENS,
    collect_texts,
    count_words,
    learn_wordpiece,
    train_vocab,
)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_words_are_berts_uncased_words():
    assert count_words(['Café, DOG!', 'a dog']) == {'cafe': 1, ',': 1, 'dog': 2, '!': 1, 'a': 1}


def test_the_most_frequent_pair_is_merged_first():
    # ab x3, ac x1: (a, ##b) occurs 3 times, (a, ##c) once
    vocab = learn_wordpiece({'ab': 3, 'ac': 1})
    assert vocab == [*SPECIAL_TOKENS, 'a', 'b', 'c', '##b', '##c', 'ab', 'ac']


def test_ties_go_to_the_pair_of_smallest_ids():
    # (a, ##b) and (##b, ##c) both occur once; a's id is below ##b's, so ab comes first
    # (by strings, '##b' < 'a' would have merged ##bc first)
    assert learn_wordpiece({'abc': 1})[len(SPECIAL_TOKENS) :] == [
        'a', 'b', 'c', '##b', '##c', 'ab', 'abc'
    ]
    # between (a, ##b) and (a, ##c) the right token decides: ##b < ##c
    assert learn_wordpiece({'ac': 1, 'ab': 1})[-2:] == ['ab', 'ac']


def test_vocab_size_and_min_frequency_stop_the_merges():
    base = len(SPECIAL_TOKENS) + 5  # a b c ##b ##c
    assert learn_wordpiece({'ab': 3, 'ac': 1}, vocab_size=base + 1)[-1] == 'ab'
    assert learn_wordpiece({'ab': 3, 'ac': 1}, min_frequency=2)[-1] == 'ab'
    assert learn_wordpiece({'a': 4}) == [*SPECIAL_TOKENS, 'a']


def test_same_file_in_every_process_and_every_word_is_known(synthground_root, tmp_path):
    """Two processes with different string hash seeds write the same bytes; BERT's
    tokenizer (transformers) reads the file and knows every character of the build's text."""
    from transformers import BertTokenizer

    code = (
        'import sys; from mmgrounding.datasets.synthground.vocab import collect_texts, '
        'train_vocab; train_vocab(collect_texts(sys.argv[1]), sys.argv[2])'
    )
    outputs = []
    for hash_seed in ('1', '2'):
        out = str(tmp_path / f'vocab{hash_seed}.txt')
        env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=REPO)
        subprocess.run([sys.executable, '-c', code, synthground_root, out], env=env, check=True)
        with open(out, 'rb') as f:
            outputs.append(f.read())
    assert outputs[0] == outputs[1]
    size = train_vocab(collect_texts(synthground_root), str(tmp_path / 'here.txt'))
    assert (tmp_path / 'here.txt').read_bytes() == outputs[0]
    assert size == outputs[0].count(b'\n') <= 1000
    tokenizer = BertTokenizer(str(tmp_path / 'here.txt'))
    texts = collect_texts(synthground_root)[:500]
    assert not [t for t in texts if tokenizer.unk_token in tokenizer.tokenize(t)]
