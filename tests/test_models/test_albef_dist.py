"""A 2-process gloo training step equals the 1-process step on the same global batch: queues,
hard negatives and gradients are gathered across processes correctly."""
import os
import subprocess
import sys

import torch

from .albef_tiny import write_vocab

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'dist_albef_step.py')


def test_two_process_step_equals_one_process(tmp_path, free_port):
    vocab = write_vocab(tmp_path / 'vocab.txt')
    single, double = tmp_path / 'single.pth', tmp_path / 'double.pth'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run([sys.executable, SCRIPT, vocab, str(single)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
         f'--master_port={free_port}', SCRIPT, vocab, str(double)],
        env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    one, two = torch.load(single), torch.load(double)
    assert one['after'].keys() == two['after'].keys()
    for key in one['after']:
        torch.testing.assert_close(one['after'][key], two['after'][key], rtol=1e-4, atol=1e-5,
                                   msg=key)
    # the step moved the weights (the comparison would be vacuous otherwise), and both runs
    # queued the teacher features of the whole global batch with its image ids
    weight = 'image_encoder.patch_embed.proj.weight'
    assert not torch.allclose(one['before'][weight], one['after'][weight])
    assert two['after']['idx_queue'][0].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
