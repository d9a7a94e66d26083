"""Train a grounding model (mmdet's command line)."""

import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmgrounding.engine.optim_wrapper import use_amp_training
from mmgrounding.utils import (
    finish_distributed,
    needs_cpu_distributed,
    register_all_modules,
    set_trust_checkpoints,
    setup_cpu_distributed,
)
from mmgrounding.utils.compat import TRUST_HELP


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a grounding model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: float16 with loss scaling on a GPU, bfloat16 on a CPU',
    )
    parser.add_argument(
        '--auto-scale-lr', action='store_true', help='scale the lr with the total batch size'
    )
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint; without a path, from the latest one in work_dir',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. train_cfg.max_epochs=2',
    )
    parser.add_argument('--trust-checkpoint', action='store_true', help=TRUST_HELP)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


# Every run of this tool: exact resume (random states saved and restored) and a stop on a
# NaN / inf loss before anything is checkpointed. A config that lists one keeps its own.
SAFETY_HOOKS = ('ExactResumeHook', 'NonFiniteLossHook')  # configs' default_scope: mmgrounding


def add_safety_hooks(cfg: Config) -> None:
    hooks = list(cfg.get('custom_hooks', None) or [])
    types = (hook.get('type') for hook in hooks)
    present = {getattr(t, '__name__', str(t)).split('.')[-1] for t in types}
    hooks += [dict(type=name) for name in SAFETY_HOOKS if name not in present]
    cfg.custom_hooks = hooks


def build_config(args: argparse.Namespace) -> Config:
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:  # MMEngine's AmpOptimWrapper needs a GPU: bfloat16 autocast on the CPU
        use_amp_training(cfg)
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise RuntimeError('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    add_safety_hooks(cfg)
    if needs_cpu_distributed(args.launcher):
        setup_cpu_distributed(cfg, args.launcher)
    return cfg


def main() -> None:
    args = parse_args()
    register_all_modules(init_default_scope=False)
    cfg = build_config(args)
    # before the runner exists: load_from / resume / init_cfg checkpoints read with this
    set_trust_checkpoints(args.trust_checkpoint or bool(cfg.get('trust_checkpoint', False)))
    runner = Runner.from_cfg(cfg)
    runner.train()
    if args.launcher != 'none':
        finish_distributed()


if __name__ == '__main__':
    main()
