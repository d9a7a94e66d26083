"""ReIR's analysis tools: the Fig. 4 IoU curve and the seed table."""

import json
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def write_metrics(path, acc, miou):
    metrics = {f'reir/fused/union/acc@{t:g}': a for t, a in zip((0.5, 0.6, 0.7, 0.8), acc)}
    metrics['reir/fused/union/miou'] = miou
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics))
    return str(path)


def test_iou_curve_mean_std_and_png(tmp_path):
    sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis_tools'))
    try:
        from reir_iou_curve import read_curve, summarise
    finally:
        sys.path.pop(0)
    a = write_metrics(tmp_path / 'a.json', (60, 50, 40, 20), 45)
    b = write_metrics(tmp_path / 'b.json', (50, 40, 30, 10), 35)
    curve, miou = read_curve(a, box_set='fused', protocol='union')
    assert curve == {0.5: 60, 0.6: 50, 0.7: 40, 0.8: 20} and miou == 45
    run = summarise([a, b], box_set='fused', protocol='union')
    assert run['mean'].tolist() == [55, 45, 35, 15] and run['std'].tolist() == [5, 5, 5, 5]
    assert run['miou_mean'] == 40
    with pytest.raises(ValueError, match='ReIRBoxMetric'):
        read_curve(a, box_set='stage1', protocol='union')
    out = tmp_path / 'curve.png'
    result = subprocess.run(
        [
            sys.executable,
            osp.join(ROOT, 'tools/analysis_tools/reir_iou_curve.py'),
            '--run',
            f'two={a},{b}',
            '--out',
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert '0.5: 55.00 ± 5.00' in result.stdout
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
