"""The leaderboard and dataset statistics tools."""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mmgrounding.registry import DATASETS

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_tool(name):
    path = os.path.join(REPO, 'tools', 'analysis_tools', f'{name}.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_papers_and_flickr_tables():
    leaderboard = load_tool('leaderboard')
    results = {
        'centre': {
            'Flickr30k': {'pointing/accuracy': 8.5, 'pointing/round': 10.0, 'box_recall/R@1': 0.1},
            'RefCOCO+ testA': {'pointing/accuracy': 6.8},
            'RefCOCO+ testB': {'pointing/accuracy': 6.6},
            'ReferIt': {'pointing/accuracy': 6.4},
        }
    }
    assert leaderboard.format_tables(results, 'papers').splitlines() == [
        '| method | Flickr30k | RefCOCO+ testA | RefCOCO+ testB | ReferIt |',
        '|---|---|---|---|---|',
        '| centre | 8.50 | 6.80 | 6.60 | 6.40 |',
    ]
    flickr = leaderboard.format_tables(results, 'flickr30k')
    assert '| centre | 8.50 | 0.10 | - | - |' in flickr
    assert '| method | round |' in flickr and '| centre | 10.00 |' in flickr


def test_leaderboard_runs_a_baseline_on_synthground(synthground_root, tmp_path):
    out = tmp_path / 'board.json'
    proc = subprocess.run(
        [
            sys.executable,
            'tools/analysis_tools/leaderboard.py',
            '--layout',
            'refcoco',
            '--data-root',
            synthground_root,
            '--work-dir',
            str(tmp_path / 'w'),
            '--out',
            str(out),
            '--model',
            'centre',
            'configs/baselines/centre_synthground_flickr30k.py',
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '| method | RefCOCO+ testA | RefCOCO+ testB |' in proc.stdout
    results = json.loads(out.read_text())['results']['centre']
    assert set(results) == {'RefCOCO+ testA', 'RefCOCO+ testB'}
    # the centre baseline points at the centre of its 33 x 33 map's middle cell, the image
    # centre: its accuracy is the share of phrases with a box that holds the centre (borders
    # included, the 'grid' protocol), computed here from the annotations
    leaderboard = load_tool('leaderboard')
    for split in ('RefCOCO+ testA', 'RefCOCO+ testB'):
        dataset_cfg, _ = leaderboard.benchmark_dataset(split, 'synthground', synthground_root)
        expected = centre_hit_rate(DATASETS.build(dict(dataset_cfg, pipeline=[])))
        assert results[split]['pointing/accuracy'] == pytest.approx(expected), split


def centre_hit_rate(dataset) -> float:
    """100 × the share of the dataset's phrases with a box that contains the image centre."""
    hits = []
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        x, y = info['width'] / 2, info['height'] / 2
        for phrase in info['phrases']:
            boxes = np.asarray(phrase['boxes_xyxy'], np.float64).reshape(-1, 4)
            hits.append(
                bool(
                    (
                        (boxes[:, 0] <= x)
                        & (x <= boxes[:, 2])
                        & (boxes[:, 1] <= y)
                        & (y <= boxes[:, 3])
                    ).any()
                )
            )
    assert hits
    return 100.0 * sum(hits) / len(hits)


def test_dataset_stats_counts_match_the_loader(synthground_root):
    from mmgrounding.datasets import Flickr30kEntitiesDataset

    stats_tool = load_tool('dataset_stats')
    dataset = Flickr30kEntitiesDataset(
        data_root=synthground_root,
        ann_file='flickr30k_entities/test.txt',
        data_prefix=dict(
            img='images/',
            annotations='flickr30k_entities/Annotations/',
            sentences='flickr30k_entities/Sentences/',
        ),
        pipeline=[],
    )
    stats = stats_tool.dataset_stats(dataset)
    phrases = [p for i in range(len(dataset)) for p in dataset[i]['phrases']]
    assert stats['queries'] == len(dataset)
    assert stats['phrases'] == len(phrases)
    assert stats['boxes'] == sum(len(p['boxes_xyxy']) for p in phrases)
    assert sum(stats['phrases_per_type'].values()) >= stats['phrases']
    # every phrase of a caption counted once by its relation degree
    assert sum(stats['relation_degrees'].values()) == stats['phrases']


def test_dataset_stats_relation_degrees_on_hand_made_captions():
    """'a man next to a dog near a car': the dog links to both; 'a cat and a hat': no relation
    ('and' is stripped), so both have degree 0."""
    stats_tool = load_tool('dataset_stats')

    class Captions:
        items = [
            ('a man next to a dog near a car', [(0, 5), (14, 19), (25, 30)]),
            ('a cat and a hat', [(0, 5), (10, 15)]),
        ]

        def __len__(self):
            return len(self.items)

        def get_data_info(self, index):
            caption, spans = self.items[index]
            return dict(img_id=index, caption=caption,
                        phrases=[dict(span=s, boxes_xyxy=[[0, 0, 1, 1]]) for s in spans])

    stats = stats_tool.dataset_stats(Captions())
    assert stats['relation_degrees'] == {0: 2, 1: 2, 2: 1}


def test_synthground_referit_column_reads_the_refs_with_the_referit_loader():
    leaderboard = load_tool('leaderboard')
    dataset, evaluator = leaderboard.benchmark_dataset('ReferIt', 'synthground', '/data/sg/')
    assert (dataset['type'], dataset['split'], dataset['data_root']) == (
        'ReferItGameDataset',
        'val',
        '/data/sg/',
    )
    assert dataset['refs_file'] == 'refcoco/refs(unc).p' and 'pipeline' not in dataset
    assert [m['type'] for m in evaluator] == ['PointingGameMetric', 'BoxRecallMetric']


# (config, loader, cfg_options, meta.json counts -> expected queries)
SYNTHGROUND_CONFIGS = [
    (
        'synthground_flickr30k.py',
        'train',
        {},
        lambda c: c['flickr30k_entities']['train']['captions'],
    ),
    ('synthground_flickr30k.py', 'test', {}, lambda c: c['flickr30k_entities']['test']['captions']),
    (
        'synthground_refcoco.py',
        'test',
        {'test_dataloader.dataset.split': 'testB'},
        lambda c: c['refcoco']['testB']['sentences'],
    ),
    ('synthground_referit.py', 'test', {}, lambda c: c['refcoco']['val']['sentences']),
    (
        'synthground_coco_captions.py',
        'train',
        {},
        lambda c: c['coco_captions']['train']['captions'],
    ),
    (
        'synthground_flickr30k_captions.py',
        'train',
        {'train_dataloader.dataset.ann_file': 'flickr30k_entities/val.txt'},
        lambda c: c['flickr30k_entities']['val']['captions'],
    ),
    ('synthground_vg_triplets.py', 'train', {}, None),
]


@pytest.mark.parametrize('config,loader,options,expected', SYNTHGROUND_CONFIGS)
def test_dataset_stats_reads_every_synthground_config(
    synthground_root, config, loader, options, expected
):
    stats_tool = load_tool('dataset_stats')
    options = {f'{loader}_dataloader.dataset.data_root': synthground_root, **options}
    dataset = stats_tool.build_dataset(
        os.path.join(REPO, 'configs', '_base_', 'datasets', config),
        loader=loader,
        cfg_options=options,
    )
    stats = stats_tool.dataset_stats(dataset)
    with open(os.path.join(synthground_root, 'meta.json')) as f:
        counts = json.load(f)['counts']
    if expected is None:  # VG triplets: one box per query, never more images than VG has
        assert 0 < stats['images'] <= counts['vg']['images']
        assert stats['queries'] == stats['phrases'] == stats['boxes'] > 0
    else:
        assert stats['queries'] == expected(counts) > 0
    if 'captions' in config:
        assert stats['phrases'] == stats['boxes'] == 0
    else:
        assert stats['boxes'] >= stats['phrases'] > 0
