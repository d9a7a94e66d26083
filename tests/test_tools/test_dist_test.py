"""tools/test.py and tools/dist_test.sh on SynthGround: 2 processes (gloo) equal 1 process."""
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIG = 'configs/baselines/random_synthground_flickr30k.py'


def run(cmd, env=None):
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.parametrize('config', [CONFIG])
def test_two_process_test_equals_one_process(config, synthground_root, tmp_path, free_port):
    options = ['--cfg-options', f'test_dataloader.dataset.data_root={synthground_root}',
               'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
               'test_dataloader.batch_size=3']
    single = tmp_path / 'single.json'
    run([sys.executable, 'tools/test.py', config, '--work-dir', str(tmp_path / 'w1'),
         '--metrics-json', str(single)] + options)
    double = tmp_path / 'double.json'
    env = dict(os.environ, PYTHON=sys.executable, PORT=free_port)
    run(['bash', 'tools/dist_test.sh', config, 'none', '2', '--work-dir', str(tmp_path / 'w2'),
         '--metrics-json', str(double)] + options, env=env)
    one, two = json.loads(single.read_text()), json.loads(double.read_text())
    assert set(one) >= {'pointing/accuracy', 'box_recall/R@1'}
    assert one == two
