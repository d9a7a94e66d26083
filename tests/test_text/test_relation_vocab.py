"""ReIR's relation vocabulary: counts, the frequency threshold, the file, the tool."""

import os.path as osp
import subprocess
import sys

import pytest

from mmgrounding.text.relation_vocab import (
    caption_relations,
    count_relations,
    read_relation_vocab,
    relation_classes,
    write_relation_vocab,
)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CAPTIONS = [
    # "a red circle" [0, 12), "a blue square" [19, 32): relation "above"
    ('a red circle above a blue square', [(0, 12), (19, 32)]),
    ('a star above a heart and a cross', [(0, 6), (13, 20), (25, 32)]),  # above; "and": none
    ('a star to the left of a heart', [(0, 6), (22, 29)]),  # "to the left of"
    ('a star', [(-1, -1)]),  # unknown span: no relation
]


def test_counts_and_threshold():
    counts = count_relations(CAPTIONS)
    assert counts == {'above': 2, 'to the left of': 1}
    # frequency > min_count (the paper's "> 100")
    assert relation_classes(counts, min_count=1) == [('above', 2)]
    assert relation_classes(counts, min_count=0) == [('above', 2), ('to the left of', 1)]
    assert caption_relations(*CAPTIONS[3]) == []


def test_file_round_trip_and_errors(tmp_path):
    path = str(tmp_path / 'sub' / 'rel.txt')
    write_relation_vocab([('above', 2), ('to the left of', 1)], path)
    assert open(path).read() == 'above\t2\nto the left of\t1\n'
    assert read_relation_vocab(path) == ['above', 'to the left of']
    bad = tmp_path / 'bad.txt'
    bad.write_text('above\t2\nbelow\n')
    with pytest.raises(ValueError, match='bad.txt:2'):
        read_relation_vocab(str(bad))


def test_tool_on_synthground(synthground_root, tmp_path):
    config = tmp_path / 'data.py'
    config.write_text(
        f"_base_ = ['{ROOT}/configs/_base_/datasets/synthground_flickr30k.py']\n"
        f"train_dataloader = dict(dataset=dict(data_root='{synthground_root}'))\n"
    )
    out, words = tmp_path / 'rel.txt', tmp_path / 'words.txt'
    result = subprocess.run(
        [
            sys.executable,
            osp.join(ROOT, 'tools/build_relation_vocab.py'),
            str(config),
            '--out',
            str(out),
            '--min-count',
            '3',
            '--word-vocab-out',
            str(words),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert 'relation classes' in result.stdout
    lines = [line.split('\t') for line in out.read_text().splitlines()]
    counts = [int(n) for _, n in lines]
    assert lines and all(n > 3 for n in counts) and counts == sorted(counts, reverse=True)
    assert words.read_text().splitlines()[:2] == ['[PAD]', '[UNK]']


def test_tool_reads_another_build_with_data_root(synthground_root, tmp_path):
    # the dataset config spells data/synthground/; --data-root reads the build given
    config = tmp_path / 'data.py'
    config.write_text(
        f"_base_ = ['{ROOT}/configs/_base_/datasets/synthground_flickr30k.py']\n"
        f"train_dataloader = dict(dataset=dict(data_root='{synthground_root}'))\n"
    )
    outputs = []
    for name, source, extra in (
        ('direct', str(config), []),
        (
            'moved',
            f'{ROOT}/configs/_base_/datasets/synthground_flickr30k.py',
            ['--data-root', synthground_root],
        ),
    ):
        out, words = tmp_path / f'{name}.txt', tmp_path / f'{name}_words.txt'
        subprocess.run(
            [
                sys.executable,
                osp.join(ROOT, 'tools/build_relation_vocab.py'),
                source,
                '--out',
                str(out),
                '--min-count',
                '3',
                '--word-vocab-out',
                str(words),
                *extra,
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        outputs.append((out.read_text(), words.read_text()))
    assert outputs[0] == outputs[1] and outputs[0][0]
