"""A 2-process gloo ReIR training step equals the 1-process step on the same global batch:
the region embedder's BatchNorm uses the statistics of every process's regions, and the
ranking loss takes its negatives from every process's images and captions (with gradient).

Checked to fail: with the embedder's plain BatchNorm (``norm='BN'``) the step differs by up to
2e-2 (relation classifier, embedder weights, running statistics); with the ranking loss on
each process's own batch by 5e-3; with the negatives gathered but each process's gradient of
them not summed over the processes (the losses then agree) by 2.5e-3.
"""

import os
import subprocess
import sys

import torch

from . import dist_reir_step

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'dist_reir_step.py')


def run_two_processes(args: list, *, port: str) -> None:
    launcher = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2']
    proc = subprocess.run(
        launcher + [f'--master_port={port}', SCRIPT, *args],
        env=dict(os.environ, OMP_NUM_THREADS='1'),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_two_process_step_equals_one_process(tmp_path, free_port):
    vocab, relations = dist_reir_step.write_vocabs(str(tmp_path))
    single, double = str(tmp_path / 'single.pth'), str(tmp_path / 'double.pth')
    dist_reir_step.main(vocab, relations, single)  # in this process, no process group
    run_two_processes([vocab, relations, double], port=free_port)
    one, two = torch.load(single), torch.load(double)
    names = one['names']
    assert names == two['names'] and {
        'loss_rank_s1',
        'loss_rank_s2',
        'loss_rec_s1',
        'loss_reg_s1',
        'loss_reg_s2',
        'loss_rel',
    } <= set(names)
    # every loss is on: the comparison would be vacuous for a loss that is zero
    assert bool((one['losses'] > 0).all()), dict(zip(names, one['losses'][0].tolist()))
    # the ranking loss is the global batch's on every process; the others are per-process
    # means, whose average is the global mean (equal counts per process)
    for i, name in enumerate(names):
        if name.startswith('loss_rank'):
            torch.testing.assert_close(two['losses'][:, i], one['losses'][0, i].expand(2))
        else:
            torch.testing.assert_close(two['losses'][:, i].mean(), one['losses'][0, i])
    assert one['after'].keys() == two['after'].keys()
    for key in one['after']:
        torch.testing.assert_close(
            one['after'][key], two['after'][key], rtol=1e-4, atol=1e-6, msg=key
        )
    # the step moved the weights the ranking loss and the BatchNorm train
    for key in ('image_projection.weight', 'region_embedder.norm.weight'):
        assert not torch.allclose(one['before'][key], one['after'][key]), key
