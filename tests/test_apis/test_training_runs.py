"""Training runs: the state of a work dir, refusing another config's, the weights hash."""

import pytest
import torch

from mmgrounding.apis import synthground_leaderboard as registry
from mmgrounding.apis import training_runs as tr
from mmgrounding.apis.experiments import prepare_config
from mmgrounding.utils.hashing import file_sha256


def fake_work_dir(tmp_path, *, last=None, files=()):
    cfg = prepare_config(registry.experiment('ckd-nce'), seed=0, work_dir=str(tmp_path))
    for name in files:
        (tmp_path / name).write_bytes(b'x')
    if last is not None:
        (tmp_path / 'last_checkpoint').write_text(str(tmp_path / last))
    return cfg


def test_training_state_new_interrupted_done(tmp_path):
    cfg = fake_work_dir(tmp_path / 'a')
    assert tr.final_checkpoint(cfg) == str(tmp_path / 'a' / 'iter_600.pth')
    assert tr.training_state(cfg) == 'new'
    (tmp_path / 'b').mkdir()
    cfg = fake_work_dir(tmp_path / 'b', last='iter_300.pth', files=['iter_300.pth'])
    assert tr.training_state(cfg) == 'interrupted'
    (tmp_path / 'c').mkdir()
    # the final file without MMEngine's record of it (a save cut short) is not done
    cfg = fake_work_dir(tmp_path / 'c', last='iter_300.pth', files=['iter_300.pth', 'iter_600.pth'])
    assert tr.training_state(cfg) == 'interrupted'
    (tmp_path / 'd').mkdir()
    cfg = fake_work_dir(tmp_path / 'd', last='iter_600.pth', files=['iter_600.pth'])
    assert tr.training_state(cfg) == 'done'


def test_a_work_dir_of_another_config_is_refused(tmp_path):
    cfg = tr.with_progress_hook(fake_work_dir(tmp_path))
    config_file = tmp_path / tr.CONFIG_FILE
    config_file.parent.mkdir()
    config_file.write_text(cfg.pretty_text)
    tr._check_same_config(cfg, str(config_file))  # same config: fine
    other = tr.with_progress_hook(
        prepare_config(registry.experiment('ckd-nce'), seed=1, work_dir=str(tmp_path))
    )
    with pytest.raises(RuntimeError, match='holds a training of another config'):
        tr._check_same_config(other, str(config_file))


def test_weights_hash_ignores_checkpoint_metadata(tmp_path):
    state = {'w': torch.arange(4.0), 'b': torch.ones(2, dtype=torch.bfloat16)}
    torch.save(dict(meta=dict(time='1'), state_dict=state), tmp_path / 'a.pth')
    torch.save(dict(meta=dict(time='2'), state_dict=state), tmp_path / 'b.pth')
    state['w'][0] = 0.5
    torch.save(dict(meta=dict(time='1'), state_dict=state), tmp_path / 'c.pth')
    a, b, c = (tr.weights_sha256(str(tmp_path / f'{n}.pth')) for n in 'abc')
    assert a == b != c
    assert file_sha256(str(tmp_path / 'a.pth')) != file_sha256(str(tmp_path / 'b.pth'))
