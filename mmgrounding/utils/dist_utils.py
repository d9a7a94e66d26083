"""Distributed start on machines without CUDA (gloo), for the tools and tests.

mmengine 0.10.7's ``init_dist`` calls ``torch.cuda.set_device`` before creating the process
group, and its runner passes ``device_ids=[LOCAL_RANK]`` to DistributedDataParallel; both fail
on a CPU-only machine. :func:`setup_cpu_distributed` creates the gloo group itself (the runner
then skips ``init_dist`` because a group exists) and makes the model wrapper CPU-compatible.
"""
import os
import subprocess
import time
from datetime import timedelta

import torch
import torch.distributed as dist
from mmengine.config import Config


def _slurm_env_to_torch_env(port: int | None) -> None:
    """Translate SLURM variables into the ``env://`` variables torch.distributed reads."""
    proc_id = int(os.environ['SLURM_PROCID'])
    ntasks = int(os.environ['SLURM_NTASKS'])
    node_list = os.environ['SLURM_NODELIST']
    if 'MASTER_ADDR' not in os.environ:
        addr = subprocess.getoutput(f'scontrol show hostname {node_list} | head -n1')
        os.environ['MASTER_ADDR'] = addr
    if port is not None:
        os.environ['MASTER_PORT'] = str(port)
    os.environ.setdefault('MASTER_PORT', '29500')
    os.environ['WORLD_SIZE'] = str(ntasks)
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
    os.environ['RANK'] = str(proc_id)


def needs_cpu_distributed(launcher: str) -> bool:
    """Whether ``launcher`` asks for a distributed run that mmengine cannot start here."""
    return launcher != 'none' and not torch.cuda.is_available()


def setup_cpu_distributed(cfg: Config, launcher: str, *, timeout_s: int = 1800) -> None:
    """Start a gloo process group and make ``cfg`` wrap the model for CPU DDP.

    Args:
        cfg: the experiment config; ``env_cfg.dist_cfg.backend`` becomes ``'gloo'`` and a
            DistributedDataParallel wrapper (the default) gets ``device_ids=None``; another
            wrapper is kept as configured.
        launcher: ``'pytorch'`` (torchrun) or ``'slurm'``.
        timeout_s: collective timeout in seconds.
    """
    if launcher == 'slurm':
        _slurm_env_to_torch_env(cfg.get('env_cfg', {}).get('dist_cfg', {}).get('port'))
    elif launcher != 'pytorch':
        raise ValueError(f'launcher {launcher!r} is not supported without CUDA; '
                         "use 'pytorch' (torchrun) or 'slurm'")
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo', timeout=timedelta(seconds=timeout_s))
    env_cfg = cfg.setdefault('env_cfg', {})
    env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper_cfg = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel')
    if 'DistributedDataParallel' in str(wrapper_cfg.get('type')):
        wrapper_cfg['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper_cfg


def finish_distributed(*, settle_s: float = 0.2) -> None:
    """Wait for every process, then end the default process group (no-op when none).

    Call it at the end of a distributed run that trained with DDP on gloo. torch 2.13 puts a
    Python object into the thread-local state of every backward pass
    (``torch.autograd.graph._engine_run_backward``); the gloo work items that DDP launches from
    its backward hooks copy that state, and the gloo worker thread must take the GIL to free
    them. When the main thread frees the process group (the DDP reducer being collected) while
    holding the GIL, and a worker is still freeing such an item, each waits for the other:
    a run that finished its work and never exits. The barrier makes every earlier work item
    complete and the sleep releases the GIL, so the workers are idle before the teardown.

    Args:
        settle_s: seconds to release the GIL after the barrier.
    """
    if not dist.is_initialized():
        return
    dist.barrier()
    time.sleep(settle_s)
    dist.destroy_process_group()
