"""tools/analysis_tools/visualize_heatmaps.py end to end, with the centre baseline."""

import math
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_figures_of_the_centre_baseline(synthground_root, tmp_path):
    out = tmp_path / 'figs'
    proc = subprocess.run(
        [
            sys.executable,
            'tools/analysis_tools/visualize_heatmaps.py',
            'configs/baselines/centre_synthground_flickr30k.py',
            '--out-dir',
            str(out),
            '--num',
            '2',
            '--min-side',
            '300',
            '--cfg-options',
            f'test_dataloader.dataset.data_root={synthground_root}',
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ, OMP_NUM_THREADS='1'),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = sorted(os.listdir(out))
    assert len(files) == 2 and all(f.endswith('.png') for f in files)
    for name in files:
        figure = cv2.imread(str(out / name))[..., ::-1]  # RGB
        image_id = name.split('_')[0]
        image = cv2.imread(osp.join(synthground_root, 'images', f'{image_id}.jpg'))
        height, width = image.shape[:2]
        scale = math.ceil(300 / min(height, width))
        # one panel at least: the upscaled image fits, and the figure is no smaller
        assert figure.shape[0] > height * scale and figure.shape[1] >= width * scale
        # the status strips: green (hit) or red (miss) rows of panel width are present
        strips = [
            np.all(figure == colour, axis=-1).sum(axis=1).max()
            for colour in ((0, 160, 0), (220, 0, 0))
        ]
        assert max(strips) >= width * scale - 2


def test_figures_take_the_test_evaluators_pointing_protocol():
    import importlib.util

    from mmengine.config import Config

    from mmgrounding.evaluation.functional import POINTING_PROTOCOLS

    spec = importlib.util.spec_from_file_location(
        'visualize_heatmaps', osp.join(REPO, 'tools', 'analysis_tools', 'visualize_heatmaps.py')
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    amc = Config(dict(test_evaluator=[dict(type='PointingGameMetric', protocol='amc_official')]))
    assert tool.evaluator_protocol(amc) == POINTING_PROTOCOLS['amc_official']
    # a grid metric that reads the top box: the figures read it too
    boxes = Config(
        dict(test_evaluator=dict(metrics=[dict(type='PointingGameMetric', source='box')]))
    )
    assert tool.evaluator_protocol(boxes).point == 'box_centre'
    assert tool.evaluator_protocol(Config(dict(test_evaluator=dict(type='BoxRecallMetric')))) == (
        'grid'
    )
    # the figures test hits against the boxes the metric tests against: on a Flickr30k
    # dataset the official protocols use the official boxes, the grid protocol ours, and a
    # metric's own box_convention wins over the dataset's
    flickr = dict(box_convention='pixel_inclusive_1based')
    assert tool.figure_pointing(amc, flickr) == dict(
        protocol=POINTING_PROTOCOLS['amc_official'],
        box_convention='pixel_inclusive_1based',
        official_boxes=True,
    )
    assert tool.figure_pointing(boxes, flickr)['official_boxes'] is False
    ours = Config(
        dict(
            test_evaluator=[
                dict(type='PointingGameMetric', protocol='infoground', box_convention='continuous')
            ]
        )
    )
    assert tool.figure_pointing(ours, flickr)['box_convention'] == 'continuous'
    assert tool.figure_pointing(Config(dict(test_evaluator=[])), flickr) == dict(
        protocol='grid', box_convention='continuous', official_boxes=False
    )
