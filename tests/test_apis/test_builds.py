"""The SynthGround build of a result: its identity, its work dirs, building it when needed."""

import json
import os.path as osp

import pytest

from mmgrounding.apis import builds
from mmgrounding.apis import synthground_leaderboard as registry
from mmgrounding.apis.experiments import prepare_config
from mmgrounding.apis.runs import Run


def test_ensure_synthground_rebuilds_a_build_of_another_preset(tmp_path):
    out = tmp_path / 'sg'
    out.mkdir()
    # a v1 build's meta.json (no preset) with the same seed and size must not pass for the
    # default build, v2
    (out / 'meta.json').write_text(json.dumps(dict(arguments=dict(seed=0, num_images=6))))
    meta = builds.ensure_synthground(str(out), seed=0, num_images=6)
    assert meta['arguments']['preset'] == 'v2' and meta['generator_version'] == '2.0.0'
    assert meta['arguments']['num_images'] == 6
    # the same arguments again: reused, not rebuilt
    stamp = osp.getmtime(out / 'meta.json')
    assert builds.ensure_synthground(str(out), seed=0, num_images=6) == meta
    assert osp.getmtime(out / 'meta.json') == stamp
    # and back to v1 on request
    meta = builds.ensure_synthground(str(out), seed=0, num_images=6, preset='v1')
    assert 'preset' not in meta['arguments'] and meta['generator_version'] == '1.0.0'


V1_BUILD = dict(preset='v1', seed=0, num_images=1500, generator_version='1.0.0')


def test_build_identity_work_dirs_and_a_training_of_another_build_is_refused(tmp_path):
    # a v1 meta.json has no preset in its arguments
    v1 = dict(arguments=dict(seed=0, num_images=1500), generator_version='1.0.0')
    assert builds.build_identity(v1) == V1_BUILD
    v2 = builds.build_identity(
        dict(arguments=dict(preset='v2', seed=1, num_images=300), generator_version='2.0.0')
    )
    assert v2 == dict(preset='v2', seed=1, num_images=300, generator_version='2.0.0')
    assert builds.build_text(v2) == 'v2 (seed 1, 300 images, generator 2.0.0)'
    # the first trainings (v1, seed 0) keep their folder; any other build gets its own
    assert builds.default_work_dir(V1_BUILD) == 'work_dirs/leaderboard'
    assert (
        builds.default_work_dir(dict(v2, seed=0, num_images=1500))
        == 'work_dirs/leaderboard/v2-seed0'
    )
    assert builds.default_work_dir(v2) == 'work_dirs/leaderboard/v2-seed1-n300'
    assert builds.default_work_dir(v2, base='work_dirs/demo') == 'work_dirs/demo/v2-seed1-n300'
    cfg = prepare_config(registry.experiment('ckd-nce'), seed=0, work_dir=str(tmp_path))
    run = Run(registry.experiment('ckd-nce'), 0, cfg, build=V1_BUILD)
    builds.check_same_build(run)  # no build file: a training of the v1 default build
    with pytest.raises(RuntimeError, match=r'another SynthGround build \(v1 \(seed 0'):
        builds.check_same_build(Run(run.experiment, 0, cfg, build=v2))
    (tmp_path / 'experiment').mkdir()
    (tmp_path / builds.BUILD_FILE).write_text(json.dumps(V1_BUILD))
    builds.check_same_build(run)  # same build: fine
    with pytest.raises(RuntimeError, match='holds a training on another SynthGround build'):
        builds.check_same_build(Run(run.experiment, 0, cfg, build=v2))
