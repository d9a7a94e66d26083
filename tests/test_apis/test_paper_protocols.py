"""The papers' protocols of the leaderboard's columns: resolution and pointing rule per split."""

import json
import os
import subprocess
import sys

import pytest
from mmengine.config import Config

from mmgrounding.apis import evaluation_runs as ev
from mmgrounding.apis import paper_protocols as pp
from mmgrounding.registry import DATASETS
from mmgrounding.utils import register_all_modules

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY_ALBEF = os.path.join(REPO, 'configs/amc/amc_albef-tiny_1xb32-6e_synthground.py')
SPLITS = ['Flickr30k', 'RefCOCO+ testA', 'RefCOCO+ testB', 'ReferIt']

# From the papers (issue 13 items 1 and 5), not from the configs: the pointing rule by name and
# the test resolution (scale, keep_ratio, interpolation, backend) of every column a paper has.
EXPECTED = {
    'amc': {
        'Flickr30k': ('amc_official', ((256, 256), False, 'bilinear', 'cv2')),
        'RefCOCO+ testA': ('amc_official', ((384, 384), False, 'bicubic', 'pillow')),
        'RefCOCO+ testB': ('amc_official', ((384, 384), False, 'bicubic', 'pillow')),
        'ReferIt': ('amc_official', ((384, 384), False, 'bicubic', 'pillow')),
    },
    # region features from a cache: no image resize in the paper config
    'infoground': {'Flickr30k': ('infoground', None)},
    'ckd': {'Flickr30k': ('infoground', None), 'ReferIt': ('infoground', None)},
    'reir': {
        'Flickr30k': ('reir', ((1000, 600), True, 'bilinear', 'cv2')),
        'ReferIt': ('reir', ((1000, 600), True, 'bilinear', 'cv2')),
    },
    # box accuracy only in the paper; the configs' own pointing (the top box's centre) is kept
    'camwsvg': {
        s: (None, ((640, 640), False, 'bilinear', 'cv2'))
        for s in ('Flickr30k', 'RefCOCO+ testA', 'RefCOCO+ testB', 'ReferIt')
    },
}


def _resize_key(resize: dict | None):
    if resize is None:
        return None
    return (
        tuple(resize['scale']),
        bool(resize.get('keep_ratio', False)),
        resize.get('interpolation', 'bilinear'),
        resize.get('backend', 'cv2'),
    )


@pytest.mark.parametrize('method', sorted(EXPECTED))
def test_every_paper_column_has_the_papers_resolution_and_pointing_rule(method):
    assert set(pp.PAPER_PROTOCOLS) == set(EXPECTED)
    for split in SPLITS:
        column = pp.paper_column(method, split)
        if split not in EXPECTED[method]:
            assert column is None, (method, split)
            continue
        pointing, resize = EXPECTED[method][split]
        assert _resize_key(column.resize) == resize, (method, split)
        metrics = [m for m in column.evaluator if m['type'] == 'PointingGameMetric']
        own = Config.fromfile(os.path.join(REPO, column.config)).test_evaluator
        if pointing is None:  # the paper config's own pointing, unchanged
            assert metrics == [dict(m) for m in own if m['type'] == 'PointingGameMetric']
            assert "the paper config's own" in column.describe()
            continue
        assert [m['protocol'] for m in metrics] == [pointing]
        assert 'source' not in metrics[0]  # the named protocols fix their own point
        # the other metrics are the paper config's own
        others = [dict(m) for m in own if m['type'] != 'PointingGameMetric']
        assert [m for m in column.evaluator if m['type'] != 'PointingGameMetric'] == others


def test_reir_column_points_with_reirs_rule_as_its_paper_config():
    # ReIR's rule (centre inside the union box, borders included), in the paper config's own
    # evaluator and in the column
    own = Config.fromfile(os.path.join(REPO, pp.PAPER_PROTOCOLS['reir'].configs['Flickr30k']))
    assert [m.get('protocol', 'grid') for m in own.test_evaluator if 'Pointing' in m['type']] == [
        'reir'
    ]
    column = pp.paper_column('reir', 'Flickr30k')
    assert [m for m in column.evaluator if m['type'] == 'PointingGameMetric'] == [
        dict(type='PointingGameMetric', protocol='reir')
    ]


def test_a_tiny_albef_is_tested_at_384px_on_refcoco_and_referit(synthground_root, tmp_path):
    """The tiny ALBEF (96 px) under AMC's paper protocol: its samples reach the model at 256 px
    on Flickr30k and 384 px (PIL bicubic) on RefCOCO+ and ReferIt, and every column's metric is
    the official pointing game; without ``paper`` it keeps its 96 px and the grid rule."""
    register_all_modules()
    cfg = Config.fromfile(TINY_ALBEF)
    sides = {'Flickr30k': 256, 'RefCOCO+ testA': 384, 'RefCOCO+ testB': 384, 'ReferIt': 384}
    for split, side in sides.items():
        for paper, expected_side, protocol in (('amc', side, 'amc_official'), (None, 96, 'grid')):
            test_cfg = ev.benchmark_test_config(
                cfg,
                split,
                suite='synthground',
                data_root=synthground_root,
                checkpoint=None,
                work_dir=str(tmp_path / 'w'),
                paper=paper,
            )
            dataset = DATASETS.build(test_cfg.test_dataloader.dataset)
            sample = dataset[0]
            assert tuple(sample['inputs'].shape) == (3, expected_side, expected_side), split
            # the ground truth stays in original pixels: the pipeline only resized the image
            info = dataset.get_data_info(0)
            assert sample['data_samples'].ori_shape == (info['height'], info['width'])
            resizes = [t for t in dataset.pipeline.transforms if type(t).__name__ == 'Resize']
            assert len(resizes) == 1
            if paper is not None and side == 384:
                assert (resizes[0].interpolation, resizes[0].backend) == ('bicubic', 'pillow')
            pointing = [e for e in test_cfg.test_evaluator if e['type'] == 'PointingGameMetric']
            assert [e.get('protocol', 'grid') for e in pointing] == [protocol], (split, paper)


def test_a_model_without_a_resize_cannot_take_a_papers_resolution():
    column = pp.paper_column('amc', 'ReferIt')
    with pytest.raises(ValueError, match='no Resize'):
        pp.with_paper_resize([dict(type='LoadImageFromFile')], column)
    with pytest.raises(ValueError, match='does not evaluate'):
        ev.benchmark_test_config(
            Config.fromfile(TINY_ALBEF),
            'ReferIt',
            suite='real',
            data_root=None,
            checkpoint=None,
            work_dir='unused',
            paper='infoground',
        )


def test_leaderboard_prints_and_records_the_protocol_of_every_column(synthground_root, tmp_path):
    """``--paper`` per model: the Resize that ran and every metric, read by the tool from the
    built runner, are the paper's per column (the default mode: the tiny ALBEF test above and
    tests/test_tools/test_analysis_tools.py)."""
    out = tmp_path / 'board.json'
    centre = 'configs/baselines/centre_synthground_flickr30k.py'
    proc = subprocess.run(
        [
            sys.executable,
            'tools/analysis_tools/leaderboard.py',
            '--layout',
            'papers',
            '--data-root',
            synthground_root,
            '--work-dir',
            str(tmp_path / 'w'),
            '--out',
            str(out),
            '--model',
            'centre-amc',
            centre,
            '--model',
            'centre-ig',
            centre,
            '--paper',
            'centre-amc',
            'amc',
            '--paper',
            'centre-ig',
            'infoground',
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())['results']

    def ran(model, split):
        column = results[model][split]['column']
        return column['paper'], [_resize_key(r) for r in column['resize']]

    def pointing(model, split):
        return results[model][split]['protocols']['pointing']['settings']['protocol']

    # AMC's protocol: 256 px on Flickr30k, 384 px bicubic on the others, the official rule
    assert ran('centre-amc', 'Flickr30k') == ('amc', [((256, 256), False, 'bilinear', 'cv2')])
    for split in SPLITS[1:]:
        assert ran('centre-amc', split) == ('amc', [((384, 384), False, 'bicubic', 'pillow')])
    assert {pointing('centre-amc', s) for s in SPLITS} == {'amc_official'}
    # InfoGround's: Flickr30k only, the model's own 128 px, the top box's centre strictly inside
    assert ran('centre-ig', 'Flickr30k') == ('infoground', [((128, 128), False, 'bilinear', 'cv2')])
    assert pointing('centre-ig', 'Flickr30k') == 'infoground'
    for split in SPLITS[1:]:
        assert results['centre-ig'][split]['column']['skipped'] == 'not in the infoground paper'
        assert 'pointing/accuracy' not in results['centre-ig'][split]
    assert 'pointing/accuracy' in results['centre-ig']['Flickr30k']
    # printed: the table with empty cells where the paper has no column, a line per column
    lines = proc.stdout.splitlines()
    row = next(line for line in lines if line.startswith('| centre-ig |'))
    assert row.endswith('| - | - | - |')
    assert any(
        line.startswith('- centre-amc · RefCOCO+ testA: paper protocol `amc`')
        and 'pointing `amc_official`' in line
        and 'ran Resize 384x384 (stretched, bicubic, pillow)' in line
        for line in lines
    )
    assert '- centre-ig · ReferIt: not in the infoground paper' in lines


def test_analogue_resize_scales_the_models_size_by_the_papers_test_to_training_ratio():
    """AMC trains at 256 and tests RefCOCO+ / ReferIt at 384 (bicubic, PIL): a model tested at
    96 px is tested at 144 px with the paper's interpolation and keeps its keep_ratio; on
    Flickr30k (256 / 256) it keeps its size, with the paper's cv2 bilinear."""
    model = dict(type='Resize', scale=(96, 96), keep_ratio=False)
    referit = pp.analogue_resize(pp.paper_column('amc', 'ReferIt'), model)
    assert referit == dict(
        type='Resize', scale=(144, 144), keep_ratio=False, interpolation='bicubic',
        backend='pillow'
    )
    flickr = pp.analogue_resize(pp.paper_column('amc', 'Flickr30k'), model)
    assert flickr['scale'] == (96, 96) and flickr.get('backend', 'cv2') == 'cv2'
    assert model == dict(type='Resize', scale=(96, 96), keep_ratio=False)  # not modified
    # region-cache papers have no test Resize: the model's stays
    assert pp.analogue_resize(pp.paper_column('ckd', 'ReferIt'), model) == model
    with pytest.raises(ValueError, match='differ in form'):
        pp.analogue_resize(pp.paper_column('amc', 'ReferIt'), dict(type='Resize', scale=96))


def test_a_paper_split_is_its_benchmark_split_at_the_analogue_size(synthground_root, tmp_path):
    """'ReferIt (amc protocol)' reads ReferIt's data, with AMC's official pointing, at 1.5x the
    tiny ALBEF's 96 px; a paper on top of a paper split is refused."""
    register_all_modules()
    assert ev.PAPER_SPLITS[ev.paper_split('ReferIt', 'amc')] == ev.PaperSplit('ReferIt', 'amc')
    assert {s.paper for s in ev.PAPER_SPLITS.values()} == set(pp.PAPER_PROTOCOLS)
    cfg = Config.fromfile(TINY_ALBEF)
    kwargs = dict(
        suite='synthground', data_root=synthground_root, checkpoint=None,
        work_dir=str(tmp_path / 'w'),
    )
    test_cfg = ev.benchmark_test_config(cfg, 'ReferIt (amc protocol)', **kwargs)
    plain = ev.benchmark_test_config(cfg, 'ReferIt', **kwargs)
    assert test_cfg.test_dataloader.dataset.ann_file == plain.test_dataloader.dataset.ann_file
    sample = DATASETS.build(test_cfg.test_dataloader.dataset)[0]
    assert tuple(sample['inputs'].shape) == (3, 144, 144)
    pointing = [e for e in test_cfg.test_evaluator if e['type'] == 'PointingGameMetric']
    assert [e['protocol'] for e in pointing] == ['amc_official']
    with pytest.raises(ValueError, match='has its paper protocol'):
        ev.benchmark_test_config(cfg, 'ReferIt (amc protocol)', paper='amc', **kwargs)
