"""Evaluation runs: the protocol of a metric, the test dataset of a benchmark split."""

import json

from mmgrounding.apis import evaluation_runs as ev
from mmgrounding.evaluation.metrics import BoxRecallMetric, PointingGameMetric


def test_metric_protocol_is_read_from_the_metric_object():
    recall = ev.metric_protocol(BoxRecallMetric(iou_thr=0.5, protocol='union'))
    assert recall['metric'] == 'BoxRecallMetric'
    assert recall['settings']['iou_thr'] == 0.5 and recall['settings']['protocol'] == 'union'
    assert not {'topk', 'allow_no_boxes', 'collect_device', 'prefix'} & set(recall['settings'])
    pointing = ev.metric_protocol(PointingGameMetric(tolerance=2.0))
    assert pointing['settings']['tolerance'] == 2.0


def test_the_referit_column_reads_the_builds_own_split(tmp_path):
    (tmp_path / 'v1').mkdir()
    (tmp_path / 'v1' / 'meta.json').write_text(json.dumps(dict(counts=dict(refcoco={}))))
    (tmp_path / 'v2').mkdir()
    (tmp_path / 'v2' / 'meta.json').write_text(json.dumps(dict(counts=dict(referit={}))))
    dataset, _ = ev.benchmark_dataset('ReferIt', 'synthground', str(tmp_path / 'v1') + '/')
    # v1: the RefCOCO refs read by the ReferIt loader, val split
    assert dataset['type'] == 'ReferItGameDataset' and dataset['split'] == 'val'
    assert dataset['ann_file'] == 'refcoco/instances.json'
    dataset, _ = ev.benchmark_dataset('ReferIt', 'synthground', str(tmp_path / 'v2') + '/')
    assert dataset['ann_file'] == 'referit/refclef/instances.json'
    assert dataset['refs_file'] == 'referit/refclef/refs(berkeley).p'
    assert dataset['split'] == 'test' and dataset['data_root'] == str(tmp_path / 'v2') + '/'


def test_an_amp_split_is_its_split_tested_under_autocast(tmp_path):
    from mmengine.config import Config

    from mmgrounding.apis.runs import REPO_ROOT

    cfg = Config.fromfile(f'{REPO_ROOT}/configs/amc/amc_albef-tiny_1xb32-900it_synthground-mix.py')
    assert ev.amp_split('Flickr30k') == 'Flickr30k (amp)'
    paper = 'Flickr30k (amc protocol)'
    assert ev.split_precision(paper + ' (amp)') == (paper, True)
    assert ev.split_precision('Flickr30k') == ('Flickr30k', False)
    kwargs = dict(suite='synthground', data_root=None, checkpoint=None, work_dir=str(tmp_path))
    for split in ('Flickr30k', 'RefCOCO+ testA (amc protocol)'):
        plain = ev.benchmark_test_config(cfg, split, **kwargs)
        amp = ev.benchmark_test_config(cfg, ev.amp_split(split), **kwargs)
        assert amp.test_cfg.fp16 is True and not plain.test_cfg.get('fp16', False)
        # everything else is the split's: the same data, pipeline and evaluator
        assert amp.test_dataloader == plain.test_dataloader
        assert amp.test_evaluator == plain.test_evaluator
        amp.test_cfg.pop('fp16')
        assert amp.test_cfg == plain.test_cfg
    assert ev.benchmark_dataset('Flickr30k (amp)', 'synthground', None) == ev.benchmark_dataset(
        'Flickr30k', 'synthground', None
    )


def test_an_amp_split_evaluates_under_autocast_and_records_it(synthground_root, tmp_path):
    """An untrained tiny ALBEF tested on Flickr30k in float32 and under autocast: the same
    phrases and protocol; only the amp split's record names the autocast dtype."""
    import torch

    from mmgrounding.apis import experiments as ex
    from mmgrounding.apis import synthground_leaderboard as registry

    cfg = ex.prepare_config(
        registry.experiment('amc'),
        seed=0,
        work_dir=str(tmp_path),
        data_root=synthground_root,
        vocab=ex.ensure_vocab(synthground_root),
    )
    results = {
        split: ev.evaluate(
            cfg,
            checkpoint=None,
            split=split,
            data_root=synthground_root,
            work_dir=str(tmp_path / split.replace(' ', '_')),
        )
        for split in ('Flickr30k', 'Flickr30k (amp)')
    }
    plain, amp = results['Flickr30k'], results['Flickr30k (amp)']
    assert plain.autocast is None
    assert amp.autocast == ('float16' if torch.cuda.is_available() else 'bfloat16')
    assert amp.protocols == plain.protocols and set(amp.metrics) == set(plain.metrics)
