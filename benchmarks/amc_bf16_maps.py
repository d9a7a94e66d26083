"""Grad-CAM maps of a trained ALBEF/AMC model in float32 and under bfloat16 autocast.

Runs the config's test split twice per batch, once in float32 and once under
``torch.autocast('cpu', torch.bfloat16)`` (what ``tools/test.py --amp`` does on a CPU), and
prints over all phrases: the largest and the mean |difference| of the (normalised) maps, how
often the two maps have their maximum in the same cell, how often the pointing outcome (hit
or miss, the config's first ``PointingGameMetric``) agrees, and both pointing accuracies.

    python benchmarks/amc_bf16_maps.py CONFIG CHECKPOINT [--limit N] [--cfg-options ...]
"""

import argparse
import copy

import torch
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmgrounding.evaluation.metrics import PointingGameMetric
from mmgrounding.utils import register_all_modules


def pointing_metric(cfg: Config) -> PointingGameMetric:
    """The config's first pointing metric (its protocol), or the default one."""
    evaluators = cfg.test_evaluator
    evaluators = evaluators if isinstance(evaluators, (list, tuple)) else [evaluators]
    for evaluator in evaluators:
        if evaluator.get('type') in ('PointingGameMetric', 'mmgrounding.PointingGameMetric'):
            kwargs = {k: v for k, v in evaluator.items() if k != 'type'}
            return PointingGameMetric(**kwargs)
    return PointingGameMetric()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--limit', type=int, default=None, help='at most this many batches')
    parser.add_argument('--work-dir', default='work_dirs/amc_bf16_maps')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir
    cfg.load_from = args.checkpoint
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    model = runner.model.eval()
    metrics = {'float32': pointing_metric(cfg), 'bfloat16': pointing_metric(cfg)}
    largest, total, cells, same_cell = 0.0, 0.0, 0, 0
    agree, phrases = 0, 0
    for i, batch in enumerate(runner.test_dataloader):
        if args.limit is not None and i >= args.limit:
            break
        data = model.data_preprocessor(batch, False)
        outputs = {}
        for dtype in metrics:
            samples = copy.deepcopy(data['data_samples'])
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=dtype == 'bfloat16'):
                outputs[dtype] = model.predict(data['inputs'], samples)
            before = len(metrics[dtype].results)
            metrics[dtype].process(batch, outputs[dtype])
            outputs[dtype + '_hits'] = [h for s in metrics[dtype].results[before:] for h, _ in s]
        for a, b in zip(outputs['float32'], outputs['bfloat16']):
            ma, mb = a.pred_heatmaps.float(), b.pred_heatmaps.float()
            if ma.numel() == 0:
                continue
            diff = (ma - mb).abs()
            largest = max(largest, float(diff.max()))
            total += float(diff.sum())
            cells += diff.numel()
            same_cell += int((ma.flatten(1).argmax(1) == mb.flatten(1).argmax(1)).sum())
        hits_a, hits_b = outputs['float32_hits'], outputs['bfloat16_hits']
        agree += sum(x == y for x, y in zip(hits_a, hits_b))
        phrases += len(hits_a)
    accuracy = {k: m.compute_metrics(m.results)['accuracy'] for k, m in metrics.items()}
    print(f'{phrases} phrases of {args.config} (test split), {args.checkpoint}')
    print(
        f'maps, bfloat16 vs float32: largest |difference| {largest:.3g}, mean {total / cells:.3g}'
    )
    print(f'maximum in the same cell: {100 * same_cell / phrases:.2f}% of the phrases')
    print(f'pointing outcome agrees: {100 * agree / phrases:.2f}% of the phrases')
    print(
        f'pointing accuracy: float32 {accuracy["float32"]:.2f}, bfloat16 {accuracy["bfloat16"]:.2f}'
    )


if __name__ == '__main__':
    main()
