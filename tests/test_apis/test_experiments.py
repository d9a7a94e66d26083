"""The experiment runner: progress records, resumable trainings, evaluation with protocols."""

import json
import os.path as osp
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch

from mmgrounding.apis import experiments as ex
from mmgrounding.apis import synthground_leaderboard as registry
from mmgrounding.apis.progress import JsonLinesTail
from mmgrounding.apis.results_tables import stale_tables
from mmgrounding.engine.hooks import ProgressReportHook
from mmgrounding.evaluation.metrics import BoxRecallMetric, PointingGameMetric

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_progress_hook_reports_iterations_losses_and_what_the_model_predicts(tmp_path):
    path = tmp_path / 'progress.jsonl'
    hook = ProgressReportHook(file=str(path), min_interval=3600.0)
    runner = SimpleNamespace(iter=4, max_iters=6, test_dataloader=[0, 1, 2])
    hook.before_train(runner)
    for i in (4, 5):  # iterations 5 and 6 of 6 (a resumed run starts at 4)
        runner.iter = i
        hook.after_train_iter(
            runner,
            i,
            outputs={
                'loss': torch.tensor(1.5 - i / 10),
                'loss_itc': torch.tensor([0.5, 0.7]),
                'note': 'not a number',
            },
        )
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, outputs=[{'pred_heatmaps': torch.zeros(1, 2, 2)}])
    hook.after_test_iter(runner, 1, outputs=[{}])
    hook.after_test_iter(runner, 2, outputs=[{}])
    hook.after_test_epoch(runner, metrics={'pointing/accuracy': 50.0})
    records = [json.loads(line) for line in path.read_text().splitlines()]
    stages = [(r['stage'], r['event'], r['iter'], r['total']) for r in records]
    # the first training iteration is throttled away (min_interval), the last always written
    assert stages == [
        ('train', 'start', 4, 6),
        ('train', 'iter', 6, 6),
        ('test', 'start', 0, 3),
        ('test', 'iter', 1, 3),
        ('test', 'iter', 3, 3),
        ('test', 'end', 3, 3),
    ]
    assert records[1]['losses'] == pytest.approx({'loss': 1.0, 'loss_itc': 0.6})
    assert records[3]['predicts'] == ['pred_heatmaps']
    assert records[5]['metrics'] == {'pointing/accuracy': 50.0}
    with pytest.raises(ValueError, match='file or a callback'):
        ProgressReportHook()


def test_tail_returns_whole_lines_only(tmp_path):
    path = tmp_path / 'p.jsonl'
    tail = JsonLinesTail(str(path))
    assert tail.read() == []  # not written yet
    path.write_text('{"a": 1}\n{"b"')
    assert tail.read() == [{'a': 1}]
    with open(path, 'a') as f:
        f.write(': 2}\n')
    assert tail.read() == [{'b': 2}]
    assert tail.read() == []


def fake_work_dir(tmp_path, *, last=None, files=()):
    cfg = ex.prepare_config(registry.experiment('ckd-nce'), seed=0, work_dir=str(tmp_path))
    for name in files:
        (tmp_path / name).write_bytes(b'x')
    if last is not None:
        (tmp_path / 'last_checkpoint').write_text(str(tmp_path / last))
    return cfg


def test_training_state_new_interrupted_done(tmp_path):
    cfg = fake_work_dir(tmp_path / 'a')
    assert ex.final_checkpoint(cfg) == str(tmp_path / 'a' / 'iter_600.pth')
    assert ex.training_state(cfg) == 'new'
    (tmp_path / 'b').mkdir()
    cfg = fake_work_dir(tmp_path / 'b', last='iter_300.pth', files=['iter_300.pth'])
    assert ex.training_state(cfg) == 'interrupted'
    (tmp_path / 'c').mkdir()
    # the final file without MMEngine's record of it (a save cut short) is not done
    cfg = fake_work_dir(tmp_path / 'c', last='iter_300.pth', files=['iter_300.pth', 'iter_600.pth'])
    assert ex.training_state(cfg) == 'interrupted'
    (tmp_path / 'd').mkdir()
    cfg = fake_work_dir(tmp_path / 'd', last='iter_600.pth', files=['iter_600.pth'])
    assert ex.training_state(cfg) == 'done'


def test_a_work_dir_of_another_config_is_refused(tmp_path):
    cfg = ex.with_progress_hook(fake_work_dir(tmp_path))
    config_file = tmp_path / ex.CONFIG_FILE
    config_file.parent.mkdir()
    config_file.write_text(cfg.pretty_text)
    ex._check_same_config(cfg, str(config_file))  # same config: fine
    other = ex.with_progress_hook(
        ex.prepare_config(registry.experiment('ckd-nce'), seed=1, work_dir=str(tmp_path))
    )
    with pytest.raises(RuntimeError, match='holds a training of another config'):
        ex._check_same_config(other, str(config_file))


def test_prepare_config_seed_options_schedule_and_vocab(tmp_path):
    b3 = ex.prepare_config(
        registry.experiment('ckd-nce-distill-b3'), seed=3, work_dir=str(tmp_path), max_iters=7
    )
    assert b3.randomness.seed == 3
    assert b3.custom_hooks[0].max_weight == 3
    assert (b3.train_cfg.max_iters, b3.train_cfg.val_interval) == (7, 7)
    assert b3.default_hooks.checkpoint.interval == 7
    assert ex.final_checkpoint(b3).endswith('iter_7.pth')
    amc = ex.prepare_config(
        registry.experiment('amc'),
        seed=0,
        work_dir=str(tmp_path),
        data_root='/sg/',
        vocab='/sg/vocab.txt',
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


def test_metric_protocol_is_read_from_the_metric_object():
    recall = ex.metric_protocol(BoxRecallMetric(iou_thr=0.5, protocol='union'))
    assert recall['metric'] == 'BoxRecallMetric'
    assert recall['settings']['iou_thr'] == 0.5 and recall['settings']['protocol'] == 'union'
    assert not {'topk', 'allow_no_boxes', 'collect_device', 'prefix'} & set(recall['settings'])
    pointing = ex.metric_protocol(PointingGameMetric(tolerance=2.0))
    assert pointing['settings']['tolerance'] == 2.0


def test_weights_hash_ignores_checkpoint_metadata(tmp_path):
    state = {'w': torch.arange(4.0), 'b': torch.ones(2, dtype=torch.bfloat16)}
    torch.save(dict(meta=dict(time='1'), state_dict=state), tmp_path / 'a.pth')
    torch.save(dict(meta=dict(time='2'), state_dict=state), tmp_path / 'b.pth')
    state['w'][0] = 0.5
    torch.save(dict(meta=dict(time='1'), state_dict=state), tmp_path / 'c.pth')
    a, b, c = (ex.weights_sha256(str(tmp_path / f'{n}.pth')) for n in 'abc')
    assert a == b != c
    assert ex.file_sha256(str(tmp_path / 'a.pth')) != ex.file_sha256(str(tmp_path / 'b.pth'))


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


def test_smoke_runs_never_write_the_committed_results(tmp_path):
    proc = subprocess.run(
        [sys.executable, 'tools/analysis_tools/leaderboard.py', '--all', '--max-iters', '3'],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0 and 'needs --out' in proc.stderr


def test_ensure_synthground_rebuilds_a_build_of_another_preset(tmp_path):
    out = tmp_path / 'sg'
    out.mkdir()
    # a v1 build's meta.json (no preset) with the same seed and size must not pass for the
    # default build, v2
    (out / 'meta.json').write_text(json.dumps(dict(arguments=dict(seed=0, num_images=6))))
    meta = ex.ensure_synthground(str(out), seed=0, num_images=6)
    assert meta['arguments']['preset'] == 'v2' and meta['generator_version'] == '2.0.0'
    assert meta['arguments']['num_images'] == 6
    # the same arguments again: reused, not rebuilt
    stamp = osp.getmtime(out / 'meta.json')
    assert ex.ensure_synthground(str(out), seed=0, num_images=6) == meta
    assert osp.getmtime(out / 'meta.json') == stamp
    # and back to v1 on request
    meta = ex.ensure_synthground(str(out), seed=0, num_images=6, preset='v1')
    assert 'preset' not in meta['arguments'] and meta['generator_version'] == '1.0.0'


V1_BUILD = dict(preset='v1', seed=0, num_images=1500, generator_version='1.0.0')


def test_build_identity_work_dirs_and_a_training_of_another_build_is_refused(tmp_path):
    # a v1 meta.json has no preset in its arguments
    v1 = dict(arguments=dict(seed=0, num_images=1500), generator_version='1.0.0')
    assert ex.build_identity(v1) == V1_BUILD
    v2 = ex.build_identity(
        dict(arguments=dict(preset='v2', seed=1, num_images=300), generator_version='2.0.0')
    )
    assert v2 == dict(preset='v2', seed=1, num_images=300, generator_version='2.0.0')
    assert ex.build_text(v2) == 'v2 (seed 1, 300 images, generator 2.0.0)'
    # the first trainings (v1, seed 0) keep their folder; any other build gets its own
    assert ex.default_work_dir(V1_BUILD) == 'work_dirs/leaderboard'
    assert (
        ex.default_work_dir(dict(v2, seed=0, num_images=1500)) == 'work_dirs/leaderboard/v2-seed0'
    )
    assert ex.default_work_dir(v2) == 'work_dirs/leaderboard/v2-seed1-n300'
    assert ex.default_work_dir(v2, base='work_dirs/demo') == 'work_dirs/demo/v2-seed1-n300'
    cfg = fake_work_dir(tmp_path, last='iter_600.pth', files=['iter_600.pth'])
    run = ex.Run(registry.experiment('ckd-nce'), 0, cfg, build=V1_BUILD)
    ex._check_same_build(run)  # no build file: a training of the v1 default build
    with pytest.raises(RuntimeError, match=r'another SynthGround build \(v1 \(seed 0'):
        ex._check_same_build(ex.Run(run.experiment, 0, cfg, build=v2))
    (tmp_path / 'experiment').mkdir()
    (tmp_path / ex.BUILD_FILE).write_text(json.dumps(V1_BUILD))
    ex._check_same_build(run)  # same build: fine
    with pytest.raises(RuntimeError, match='holds a training on another SynthGround build'):
        ex._check_same_build(ex.Run(run.experiment, 0, cfg, build=v2))


def test_the_referit_column_reads_the_builds_own_split(tmp_path):
    (tmp_path / 'v1').mkdir()
    (tmp_path / 'v1' / 'meta.json').write_text(json.dumps(dict(counts=dict(refcoco={}))))
    (tmp_path / 'v2').mkdir()
    (tmp_path / 'v2' / 'meta.json').write_text(json.dumps(dict(counts=dict(referit={}))))
    dataset, _ = ex.benchmark_dataset('ReferIt', 'synthground', str(tmp_path / 'v1') + '/')
    # v1: the RefCOCO refs read by the ReferIt loader, val split
    assert dataset['type'] == 'ReferItGameDataset' and dataset['split'] == 'val'
    assert dataset['ann_file'] == 'refcoco/instances.json'
    dataset, _ = ex.benchmark_dataset('ReferIt', 'synthground', str(tmp_path / 'v2') + '/')
    assert dataset['ann_file'] == 'referit/refclef/instances.json'
    assert dataset['refs_file'] == 'referit/refclef/refs(berkeley).p'
    assert dataset['split'] == 'test' and dataset['data_root'] == str(tmp_path / 'v2') + '/'
