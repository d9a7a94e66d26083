"""`make leaderboard-build1` / `leaderboard.py --synthground-root`: a second SynthGround build
keeps its own detector, inputs, work dirs and results file."""

import json
import os
import shlex
import shutil
import subprocess
import sys

import pytest

from mmgrounding.registry import DATASETS
from tests.test_tools.test_analysis_tools import REPO, centre_hit_rate, load_tool

DET = 'faster-rcnn_r18-c32_fpn_1xb8-10e_synthground-vg'


def make_value(name: str, *args: str) -> str:
    """A variable of the Makefile as make expands it (nothing is built)."""
    proc = subprocess.run(
        ['make', '-s', '--no-print-directory', '--eval', 'print-%: ; @echo $($*)', f'print-{name}']
        + list(args),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def test_the_default_build_keeps_its_paths_and_another_gets_its_own():
    # data/synthground: the paths the existing results were measured with
    assert make_value('DET_WORK_DIR') == f'work_dirs/{DET}'
    assert make_value('IG_WORK_DIR') == 'work_dirs/infoground'
    other = 'DATA=data/synthground-seed1'
    assert make_value('DET_WORK_DIR', other) == f'work_dirs/data/synthground-seed1/{DET}'
    assert make_value('IG_WORK_DIR', other) == 'work_dirs/data/synthground-seed1/infoground'
    for name in (
        'REGION_CACHE',
        'IG_DIR',
        'REIR_DIR',
        'CKD_VOCAB',
        'SELFEQ_PARAPHRASES',
        'CAM_CLASSIFIER',
        'DET_CKPT',
    ):
        assert 'synthground-seed1/' in make_value(name, other), name
    assert make_value('BUILD1_DATA') == 'data/synthground-seed1'


def dry_run(target: str, *make_args: str) -> list[str]:
    """The command lines (continuations joined) of ``make -n -B TARGET ARGS``: ``-n`` prints
    the commands (the recursive make's included) and runs none; ``-B``: all of them, whatever
    this checkout has built already."""
    proc = subprocess.run(
        ['make', '-n', '-B', '--no-print-directory', target, *make_args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.replace('\\\n', ' ').splitlines()


def test_every_command_of_leaderboard_build1_reads_the_second_build():
    commands = [line for line in dry_run('leaderboard-build1') if 'tools/' in line]
    tools = {t for line in commands for t in shlex.split(line) if t.startswith('tools/')}
    # the detector, its cache, the inputs of the main table's rows, then the rows
    for tool in (
        'tools/dataset_converters/make_synthground.py',
        'tools/train.py',
        'tools/extract_proposals.py',
        'tools/train_text_mlm.py',
        'tools/generate_negatives.py',
        'tools/cache_word_features.py',
        'tools/build_relation_vocab.py',
        'tools/build_phrase_vocab.py',
        'tools/generate_paraphrases.py',
        'tools/analysis_tools/leaderboard.py',
    ):
        assert tool in tools, tool
    for line in commands:
        if 'setup_env.sh' in line:
            continue
        words = shlex.split(line)
        # no path of the default build, and each command names the second build
        assert not any(w.startswith(('data/synthground/', 'work_dirs/' + DET)) for w in words)
        assert any('synthground-seed1' in w for w in words), line
    leaderboard = [line for line in commands if 'leaderboard.py' in line]
    assert len(leaderboard) == 1
    assert '--only synthground-methods' in leaderboard[0]
    assert '--synthground-root data/synthground-seed1/' in leaderboard[0]
    assert '--seed 1' in ' '.join(commands)


def leaderboard_commands(*make_args: str) -> list[str]:
    """The ``leaderboard.py`` command lines ``make leaderboard ARGS`` would run, in order."""
    lines = dry_run('leaderboard', *make_args)
    return [line for line in lines if 'tools/analysis_tools/leaderboard.py' in line]


def test_make_leaderboard_runs_the_recipes_then_determinism_then_the_second_build():
    commands = leaderboard_commands()
    assert len(commands) == 4, commands
    assert '--all' in commands[0] and '--synthground-root data/synthground/' in commands[0]
    assert '--determinism amc --max-iters 100' in commands[1]
    assert '--determinism amc' in commands[2]
    assert '--out results/determinism_full.json' in commands[2]
    assert '--only synthground-methods' in commands[3]
    assert '--synthground-root data/synthground-seed1/' in commands[3]
    # on another build, its recipes alone (the determinism runs read the default build)
    other = leaderboard_commands('DATA=data/other', 'SEED=3')
    assert len(other) == 1 and '--all' in other[0]
    assert '--synthground-root data/other/' in other[0]


def test_leaderboard_runs_a_row_on_another_build(synthground_root, tmp_path):
    # a tiny build of its own folder (the shared one is not written to)
    root = str(tmp_path / 'build') + '/'
    shutil.copytree(synthground_root, root)
    out = tmp_path / 'board.json'
    proc = subprocess.run(
        [
            sys.executable,
            'tools/analysis_tools/leaderboard.py',
            '--only',
            'centre',
            '--synthground-root',
            root,
            '--splits',
            'Flickr30k',
            'ReferIt',
            '--work-dir',
            str(tmp_path / 'w'),
            '--out',
            str(out),
            '--no-docs',
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, OMP_NUM_THREADS='1'),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())
    build = dict(preset='v2', seed=0, num_images=40, generator_version='2.0.0')
    assert results['build'] == build
    record = results['runs']['centre/seed0']
    assert record['build'] == build and record['data']['root'] == root
    assert set(record['splits']) == {'Flickr30k', 'ReferIt'}
    # the splits were read from the build's folder: the centre baseline's accuracy is the
    # share of its test phrases whose box holds the image centre, here from its annotations
    leaderboard = load_tool('leaderboard')
    for split in ('Flickr30k', 'ReferIt'):
        dataset_cfg, _ = leaderboard.benchmark_dataset(split, 'synthground', root)
        assert dataset_cfg['data_root'] == root
        expected = centre_hit_rate(DATASETS.build(dict(dataset_cfg, pipeline=[])))
        accuracy = record['splits'][split]['metrics']['pointing/accuracy']
        assert accuracy == pytest.approx(expected), split
    # its results file by default: named after the build's meta.json, not results/synthground.json
    assert leaderboard.registry_results_file(root, build) == os.path.join(
        REPO, 'results', 'synthground_v2-seed0-n40.json'
    )
    assert leaderboard.registry_results_file('data/synthground/', build) == leaderboard.RESULTS


def test_render_and_check_take_no_synthground_root():
    proc = subprocess.run(
        [
            sys.executable,
            'tools/analysis_tools/leaderboard.py',
            '--check',
            '--synthground-root',
            'data/synthground-seed1/',
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode != 0 and 'take no --synthground-root' in proc.stderr
