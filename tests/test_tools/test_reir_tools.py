"""ReIR's analysis tools: the Fig. 4 IoU curve and the seed table."""

import json
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def metrics(acc, miou):
    """ReIRBoxMetric keys of the fused boxes against the union box (plus a stage-1 set)."""
    out = {f'reir/fused/union/acc@{t:g}': a for t, a in zip((0.5, 0.6, 0.7, 0.8), acc)}
    out['reir/fused/union/miou'] = miou
    out['reir/stage1/union/acc@0.5'] = 0.0  # another box set: not read
    return out


def registry_run(acc, miou):
    return dict(splits={'Flickr30k': dict(metrics=metrics(acc, miou)), 'Flickr30k val': {}})


@pytest.fixture
def iou_curve():
    sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis_tools'))
    try:
        import reir_iou_curve
    finally:
        sys.path.pop(0)
    return reir_iou_curve


def test_iou_curve_of_registry_runs(tmp_path, iou_curve, capsys):
    # + TSD: seeds 0 and 1 of its 0-2; full: seeds 0-2; the other Table 2 rows: no run
    results = dict(
        runs={
            'reir-tsd/seed0': registry_run((60, 50, 40, 20), 45),
            'reir-tsd/seed1': registry_run((50, 40, 30, 10), 35),
            'reir/seed0': registry_run((70, 60, 50, 30), 50),
            'reir/seed1': registry_run((72, 62, 52, 32), 52),
            'reir/seed2': registry_run((74, 64, 54, 34), 54),
            'other/seed0': registry_run((0, 0, 0, 0), 0),
        }
    )
    path = tmp_path / 'results.json'
    path.write_text(json.dumps(results))
    rows = iou_curve.registry_rows(
        results, None, split='Flickr30k', box_set='fused', protocol='union'
    )
    # Table 2's order and labels; rows without a run are left out
    assert [label for label, _ in rows] == ['+ TSD', 'full (TSD + STR + VOGN & RC)']
    tsd, full = rows[0][1], rows[1][1]
    # mean of 60 and 50 is 55, sample std sqrt((25 + 25) / 1) = 7.07; full: 72 ± 2
    assert tsd['thresholds'] == [0.5, 0.6, 0.7, 0.8] and tsd['runs'] == 2
    assert tsd['mean'] == [55, 45, 35, 15] and tsd['miou_mean'] == 40
    assert tsd['std'] == pytest.approx([50**0.5] * 4)
    assert full['mean'] == [72, 62, 52, 32] and full['std'] == pytest.approx([2.0] * 4)
    out = tmp_path / 'curve.png'
    iou_curve.main(['--results', str(path), '--out', str(out)])
    text = capsys.readouterr().out
    assert (
        '| + TSD | 55.00 ± 7.07 | 45.00 ± 7.07 | 35.00 ± 7.07 | 15.00 ± 7.07 | 40.00 ± 7.07 | 2 |'
        in text
    )
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    # chosen rows; a split, box set or row without runs is an error
    rows = iou_curve.registry_rows(
        results, ['reir'], split='Flickr30k', box_set='fused', protocol='union'
    )
    assert [label for label, _ in rows] == ['full (TSD + STR + VOGN & RC)']
    with pytest.raises(ValueError, match='none of'):
        iou_curve.registry_rows(
            results, None, split='Flickr30k val', box_set='fused', protocol='union'
        )
    with pytest.raises(ValueError, match='ReIRBoxMetric'):
        iou_curve.registry_rows(
            results, None, split='Flickr30k', box_set='stage2', protocol='union'
        )
    with pytest.raises(ValueError, match='not ReIR registry rows'):
        iou_curve.registry_rows(
            results, ['other'], split='Flickr30k', box_set='fused', protocol='union'
        )


def test_iou_curve_of_metrics_files(tmp_path, iou_curve, capsys):
    files = []
    for seed, (acc, miou) in enumerate((((60, 50, 40, 20), 45), ((50, 40, 30, 10), 35))):
        files.append(tmp_path / f's{seed}.json')
        files[-1].write_text(json.dumps(metrics(acc, miou)))
    out = tmp_path / 'curve.png'
    iou_curve.main(['--run', f'two={files[0]},{files[1]}', '--out', str(out)])
    assert '| two | 55.00 ± 7.07 |' in capsys.readouterr().out
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_seed_table(tmp_path):
    for seed, acc in ((0, 40.0), (1, 44.0)):
        metrics = {
            k: acc
            for k in (
                'reir/fused/union/acc@0.5',
                'reir/fused/any/acc@0.5',
                'reir/fused/any/acc@0.7',
                'reir/fused/any/miou',
                'reir/stage1/any/acc@0.5',
                'reir/stage2/any/acc@0.5',
                'reir/fused/union/pointit',
            )
        }
        (tmp_path / f'row-s{seed}').mkdir()
        (tmp_path / f'row-s{seed}' / 'metrics.json').write_text(json.dumps(metrics))
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools/analysis_tools/reir_table.py'), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert '| row | 0,1 | 42.00 ± 2.00 |' in result.stdout
