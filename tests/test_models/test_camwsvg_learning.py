"""CAM-WSVG learns to ground: a few dozen iterations of the SynthGround recipe (Table 3's
first row, no CAM encoder: a test has no trained CAM classifier) at a small width on the
150-image learning build of ``tests/learning.py`` (its pixel region cache) must beat the
same model with its losses multiplied by zero. The margins and the measurements are in the
docstring of the test; it does NOT beat the detector-score baseline there.

The recipe's detector-label prior (``label_prior``, a fixed WordNet score of each proposal's
detector label, no parameters) is taken out here: it is not learned, and with it the
untrained self-taught target already is the trained answer on this build (R@1 53.37 trained
and with the losses times zero, 2026-12-04), so a run that stops learning would pass. Without
it the test measures what the method learns: the phrase-proposal attention that L_rec trains
and the [REG] regression.
"""

import pytest
import torch

from tests.learning import NUM_REGIONS, REGION_DIM, bert_cfg, recipe, train_and_test

CONFIG = 'camwsvg/camwsvg-no-cam_r18-tiny_1xb16-1500it_synthground.py'
ITERS = 60
REG_START = 20
SIZE = (64, 64)


@pytest.fixture(autouse=True)
def one_thread():
    """Measured on one thread (bitwise repeatable), as the other learning tests."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def camwsvg_config(
    data: dict, work_dir: str, *, iters: int = ITERS, seed: int = 0, loss_scale: float = 1.0
):
    """The no-CAM recipe on the learning build at width 32 and 64 px, ``iters`` iterations,
    L_reg on from ``REG_START``; every loss weight times ``loss_scale``."""
    cfg = recipe(
        CONFIG,
        data,
        work_dir,
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=iters),
        randomness=dict(seed=seed),
        default_hooks=dict(checkpoint=dict(by_epoch=False, interval=iters)),
    )
    dim = 32
    model = cfg.model
    model.label_prior = None  # fixed, not learned: see the module docstring
    model.visual_encoder.update(
        backbone=dict(model.visual_encoder.backbone, base_channels=8),
        in_channels=(16, 32, 64),
        dim=dim,
        num_heads=2,
        num_groups=4,
    )
    model.text_encoder = dict(
        type='BertTextEncoder', config=bert_cfg(data['vocab'], dim), num_layers=1
    )
    model.tokenizer = dict(vocab_file=data['vocab'])
    model.fusion.update(num_heads=2, ffn_dim=2 * dim)
    model.box_head.hidden_dim = dim
    model.proposal_attention.region_dim = REGION_DIM
    model.phrase_decoder.update(embed_dim=dim, hidden_dim=2 * dim)
    for name in ('reconstruction_loss', 'regression_loss', 'ranking_loss'):
        if model.get(name):
            model[name].loss_weight = model[name].get('loss_weight', 1.0) * loss_scale
    for pipeline in (cfg.train_dataloader.dataset.pipeline, cfg.test_dataloader.dataset.pipeline):
        for transform in pipeline:
            if transform['type'] == 'LoadRegionFeatures':
                transform['topk'] = NUM_REGIONS
            if transform['type'] == 'Resize':
                transform['scale'] = SIZE
    cfg.custom_hooks[0]['step_size'] = REG_START
    cfg.param_scheduler = [
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=iters // 10)
    ]
    cfg.test_evaluator = [
        dict(type='BoxRecallMetric', topk=(1,), strict_iou=True),
        dict(type='PointingGameMetric', source='box'),
    ]
    return cfg


def test_camwsvg_learns_to_ground(learning_data, tmp_path):
    """ITERS iterations: box accuracy (IoU > 0.5) at least 6 points above the same run with
    every loss weight multiplied by zero.

    Measured on the v2 learning build (scratch driver: ``camwsvg_config`` +
    ``tests.learning.train_and_test``, one thread, about 11 s per run, 2026-12-03, the
    deterministic vocabulary): R@1 25.28 / 22.47 / 15.73 for seeds 0 / 1 / 2; losses times zero
    (seed 0) 9.55, which fails the margin. The test runs seed 0, 9.7 points above the
    threshold; seed 2 clears it by 0.2 only, so the margin is no wider. (On the v1 build:
    17.80 / 24.08 / 18.32, zeroed 8.38.) The learning
    build's detector-score baseline is R@1 28.27: in 60 iterations at this width the grounder
    does not reach it (on the real SynthGround recipe, 200 iterations, val: 36.84 vs 29.47,
    docs/methods/camwsvg.md)."""
    metrics = train_and_test(camwsvg_config(learning_data, str(tmp_path / 'train')))
    zero = train_and_test(camwsvg_config(learning_data, str(tmp_path / 'zero'), loss_scale=0.0))
    assert metrics['box_recall/R@1'] >= zero['box_recall/R@1'] + 6, (metrics, zero)
