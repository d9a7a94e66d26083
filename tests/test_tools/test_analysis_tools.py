"""The leaderboard and dataset statistics tools."""
import importlib.util
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_tool(name):
    path = os.path.join(REPO, 'tools', 'analysis_tools', f'{name}.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_papers_and_flickr_tables():
    leaderboard = load_tool('leaderboard')
    results = {'centre': {'Flickr30k': {'pointing/accuracy': 8.5, 'pointing/round': 10.0,
                                        'box_recall/R@1': 0.1},
                          'RefCOCO+ testA': {'pointing/accuracy': 6.8},
                          'RefCOCO+ testB': {'pointing/accuracy': 6.6},
                          'ReferIt': {'pointing/accuracy': 6.4}}}
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
        [sys.executable, 'tools/analysis_tools/leaderboard.py', '--layout', 'refcoco',
         '--data-root', synthground_root, '--work-dir', str(tmp_path / 'w'), '--out', str(out),
         '--model', 'centre', 'configs/baselines/centre_synthground_flickr30k.py'],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '| method | RefCOCO+ testA | RefCOCO+ testB |' in proc.stdout
    results = json.loads(out.read_text())['results']['centre']
    assert set(results) == {'RefCOCO+ testA', 'RefCOCO+ testB'}
    assert 0 <= results['RefCOCO+ testA']['pointing/accuracy'] <= 100


def test_dataset_stats_counts_match_the_loader(synthground_root):
    from mmgrounding.datasets import Flickr30kEntitiesDataset
    stats_tool = load_tool('dataset_stats')
    dataset = Flickr30kEntitiesDataset(
        data_root=synthground_root, ann_file='flickr30k_entities/test.txt',
        data_prefix=dict(img='images/', annotations='flickr30k_entities/Annotations/',
                         sentences='flickr30k_entities/Sentences/'), pipeline=[])
    stats = stats_tool.dataset_stats(dataset)
    phrases = [p for i in range(len(dataset)) for p in dataset[i]['phrases']]
    assert stats['queries'] == len(dataset)
    assert stats['phrases'] == len(phrases)
    assert stats['boxes'] == sum(len(p['boxes_xyxy']) for p in phrases)
    assert sum(stats['phrases_per_type'].values()) >= stats['phrases']
