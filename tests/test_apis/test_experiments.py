"""The experiment runner end to end: prepared configs, trained, reused and evaluated runs."""

import dataclasses
import json
import os.path as osp
import shutil
import subprocess
import sys

import torch

from mmgrounding.apis import experiments as ex
from mmgrounding.apis import synthground_leaderboard as registry
from mmgrounding.apis.results_tables import stale_tables

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_prepare_config_seed_options_schedule_and_vocab(tmp_path):
    b3 = ex.prepare_config(
        registry.experiment('ckd-nce-distill-b3'), seed=3, work_dir=str(tmp_path), max_iters=7
    )
    assert b3.randomness.seed == 3
    assert b3.custom_hooks[0].max_weight == 3
    assert (b3.train_cfg.max_iters, b3.train_cfg.val_interval) == (7, 7)
    assert b3.default_hooks.checkpoint.interval == 7
    assert ex.final_checkpoint(b3).endswith('iter_7.pth')
    amc, amp = (
        ex.prepare_config(
            registry.experiment(name),
            seed=0,
            work_dir=str(tmp_path),
            data_root='/sg/',
            vocab='/sg/vocab.txt',
        )
        for name in ('amc', 'amc-amp')
    )
    assert amc.model.tokenizer.vocab_file == '/sg/vocab.txt'
    assert {d.data_root for d in amc.train_dataloader.dataset.datasets} == {'/sg/'}
    # a pretrained tokenizer folder is not replaced by a vocabulary file
    ig = ex.prepare_config(
        registry.experiment('infoground-reranked'),
        seed=0,
        work_dir=str(tmp_path),
        vocab='/sg/vocab.txt',
    )
    assert 'vocab_file' not in ig.model.tokenizer
    # amp=True trains as tools/train.py --amp does; the float32 recipe keeps its wrapper
    cuda = torch.cuda.is_available()
    assert amp.optim_wrapper.type == ('AmpOptimWrapper' if cuda else 'CPUAmpOptimWrapper')
    assert amp.optim_wrapper.pop('loss_scale', None) == ('dynamic' if cuda else None)
    assert amc.optim_wrapper.type == 'OptimWrapper'
    amp.optim_wrapper.type = amc.optim_wrapper.type
    assert amp.optim_wrapper == amc.optim_wrapper and amp.model == amc.model


def leaderboard(*args):
    proc = subprocess.run(
        [sys.executable, 'tools/analysis_tools/leaderboard.py', *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_smoke_run_trains_reuses_evaluates_and_renders(synthground_root, tmp_path):
    """A baseline and a 4-iteration gALBEF through `leaderboard.py --only`; then reused."""
    shutil.copytree(osp.join(REPO, 'docs'), tmp_path / 'docs')
    out = tmp_path / 'smoke.json'
    args = [
        '--only',
        'centre',
        'galbef',
        '--seeds',
        '0',
        '--max-iters',
        '4',
        '--data-root',
        synthground_root,
        '--work-dir',
        str(tmp_path / 'w'),
        '--out',
        str(out),
        '--docs-root',
        str(tmp_path),
        '--jobs',
        '1',
        '--splits',
        'Flickr30k',
        'Flickr30k val',
    ]
    first = leaderboard(*args)
    assert 'trained gALBEF (seed 0)' in first and 'training: 1 trained' in first
    assert 'evaluated gALBEF (seed 0)' in first and 'evaluation: 4 evaluations' in first, first
    results = json.loads(out.read_text())
    run = results['runs']['galbef/seed0']
    assert run['smoke'] and run['max_iters'] == 4 and run['training']['status'] == 'trained'
    checkpoint = osp.join(REPO, run['checkpoint'])
    assert run['checkpoint_sha256'] == ex.file_sha256(checkpoint)
    assert set(run['splits']) == {'Flickr30k', 'Flickr30k val'}
    flickr = run['splits']['Flickr30k']
    assert 'autocast' not in flickr
    assert 0.0 <= flickr['metrics']['pointing/accuracy'] <= 100.0
    assert 'box_recall/R@1' not in flickr['metrics']  # heatmaps only
    assert flickr['protocols']['pointing']['predicts'] == ['pred_heatmaps']
    assert run['environment']['versions']['torch'] == torch.__version__
    progress = [
        json.loads(line) for line in open(osp.join(osp.dirname(checkpoint), ex.PROGRESS_FILE))
    ]
    assert progress[0]['event'] == 'start' and progress[0]['total'] == 4
    assert [r['iter'] for r in progress if r['event'] == 'iter' and r['stage'] == 'train'][-1] == 4
    assert results['runs']['centre/seed0']['training'] is None
    # the runner's console log went to the evaluation's log file, the display to the console
    test_log = open(osp.join(osp.dirname(checkpoint), 'eval', 'Flickr30k', 'test.log')).read()
    assert 'pointing/accuracy' in test_log and 'evaluated' not in test_log
    # the smoke numbers went into the copy of the docs, which now equal the smoke JSON
    assert stale_tables(registry.TABLES, registry.EXPERIMENTS, results, str(tmp_path)) == []
    demo = (tmp_path / 'docs' / 'methods' / 'amc.md').read_text()
    assert f'| gALBEF | {flickr["metrics"]["pointing/accuracy"]:.2f} |' in demo
    # a second run reuses the training (the runner in this process, same prepared config)
    again = ex.Run(
        registry.experiment('galbef'),
        0,
        ex.prepare_config(
            registry.experiment('galbef'),
            seed=0,
            work_dir=ex.run_dir(str(tmp_path / 'w'), registry.experiment('galbef'), 0, 4),
            data_root=synthground_root,
            vocab=osp.join(synthground_root, 'vocab.txt'),
            max_iters=4,
        ),
    )
    reused = ex.train_all([again])['galbef/seed0']
    assert reused.status == 'reused'
    assert osp.realpath(reused.checkpoint) == osp.realpath(checkpoint)
    assert (reused.checkpoint_sha256, reused.weights_sha256) == (
        run['checkpoint_sha256'],
        run['weights_sha256'],
    )
    # --add-splits keeps a record only if it is of this very training and not a smoke run
    again = dataclasses.replace(again, build=ex.record_build(run))
    full = dict(run, smoke=False)
    assert ex.same_training(full, again, reused)
    assert not ex.same_training(run, again, reused)  # smoke
    assert not ex.same_training(dict(full, seed=1), again, reused)
    assert not ex.same_training(dict(full, weights_sha256='0' * 64), again, reused)
    assert not ex.same_training(dict(full, cfg_options={'model.x': 1}), again, reused)
    assert not ex.same_training(dict(full, amp=True), again, reused)
    assert run['amp'] is False
    assert not ex.same_training(dict(full, build=dict(run['build'], seed=7)), again, reused)


def test_smoke_runs_never_write_the_committed_results(tmp_path):
    proc = subprocess.run(
        [sys.executable, 'tools/analysis_tools/leaderboard.py', '--all', '--max-iters', '3'],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0 and 'needs --out' in proc.stderr
