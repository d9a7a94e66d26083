"""Evaluate a grounding model (mmdet's command line)."""

import argparse
import json
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.evaluator import DumpResults
from mmengine.runner import Runner

from mmgrounding.engine.optim_wrapper import use_amp_testing
from mmgrounding.registry import METRICS
from mmgrounding.utils import (
    needs_cpu_distributed,
    register_all_modules,
    set_trust_checkpoints,
    setup_cpu_distributed,
)
from mmgrounding.utils.compat import TRUST_HELP


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a grounding model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        default=None,
        help="checkpoint file; omit (or 'none') for models without weights, e.g. baselines",
    )
    parser.add_argument('--work-dir', help='the dir to save the evaluation metrics')
    parser.add_argument('--out', help='dump predictions to a pickle file (.pkl)')
    parser.add_argument('--metrics-json', help='write the metrics to this JSON file (rank 0)')
    parser.add_argument(
        '--box-errors',
        action='store_true',
        help='also report where the top boxes go wrong (BoxErrorMetric: the wrong object, '
        'another box of the right class, the right object boxed poorly); a model answering '
        'with boxes on a pipeline with region features',
    )
    parser.add_argument('--show-dir', help='save heatmap overlays to this folder in work_dir')
    parser.add_argument('--amp', action='store_true', help='evaluate with mixed precision')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. test_dataloader.batch_size=8',
    )
    parser.add_argument('--trust-checkpoint', action='store_true', help=TRUST_HELP)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_config(args: argparse.Namespace) -> Config:
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    checkpoint = args.checkpoint
    cfg.load_from = None if checkpoint in (None, 'none', 'None') else checkpoint
    if args.amp:
        use_amp_testing(cfg)
    if args.show_dir:
        hooks = cfg.setdefault('default_hooks', {})
        if 'visualization' not in hooks:
            raise RuntimeError('--show-dir needs default_hooks.visualization in the config')
        hooks.visualization.draw = True
        hooks.visualization.test_out_dir = args.show_dir
    if args.launcher != 'none':
        # No gradients are synchronised at test time; each process evaluates its shard.
        # scoped name: the runner looks the wrapper type up in mmengine's root registry
        cfg.model_wrapper_cfg = dict(type='mmgrounding.InferenceWrapper')
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
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError('--out must be a .pkl file')
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    if args.box_errors:
        runner.test_evaluator.metrics.append(METRICS.build(dict(type='BoxErrorMetric')))
    metrics = runner.test()
    if args.metrics_json is not None and runner.rank == 0:
        os.makedirs(osp.dirname(osp.abspath(args.metrics_json)), exist_ok=True)
        with open(args.metrics_json, 'w') as f:
            json.dump(metrics, f, indent=2, sort_keys=True)


if __name__ == '__main__':
    main()
