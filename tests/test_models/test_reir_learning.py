"""ReIR learns to ground: a few dozen iterations of the SynthGround recipe on the 150-image
learning build of ``tests/learning.py`` (its pixel region cache) must beat the centre
baseline (pointing) and the detector-score baseline (box accuracy) by margins measured
first, and the same model before training. The margins and the measurements are in the
docstring of the test.
"""

import os
import os.path as osp

from mmgrounding.text import build_word_vocab, write_word_vocab
from mmgrounding.text.relation_vocab import count_relations, relation_classes, write_relation_vocab
from tests.learning import NUM_REGIONS, REGION_DIM, evaluate_only, recipe, train_and_test

from .ckd_tiny import flickr_dataset

CONFIG = 'reir/reir_lstm_1xb32-1200it_synthground.py'
ITERS = 40
REG_START = 10


def reir_vocabularies(root: str, out: str, *, min_count: int = 5) -> dict:
    """The caption words and the relation classes (seen more than ``min_count`` times) of the
    build's training split, as ``tools/build_relation_vocab.py`` writes them."""
    dataset = flickr_dataset(root, 'train')
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    samples = [(info['caption'], [tuple(p['span']) for p in info['phrases']]) for info in infos]
    os.makedirs(out, exist_ok=True)
    vocab = osp.join(out, 'caption_vocab.txt')
    write_word_vocab(build_word_vocab([caption for caption, _ in samples]), vocab)
    relations = osp.join(out, 'relation_vocab.txt')
    write_relation_vocab(relation_classes(count_relations(samples), min_count=min_count), relations)
    return dict(vocab=vocab, relations=relations)


def reir_config(data: dict, work_dir: str, *, iters: int = ITERS, seed: int = 0, **model):
    """The full-model recipe on the learning build, ``iters`` iterations, the regression on
    from ``REG_START``; evaluated with the baselines' metrics and ReIR's."""
    vocabularies = reir_vocabularies(data['root'], work_dir)
    cfg = recipe(
        CONFIG,
        data,
        work_dir,
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=iters),
        randomness=dict(seed=seed),
        default_hooks=dict(checkpoint=dict(by_epoch=False, interval=iters)),
    )
    cfg.model.phrase_encoder.vocab_file = vocabularies['vocab']
    cfg.model.relation_vocab_file = vocabularies['relations']
    cfg.model.region_embedder.in_dim = REGION_DIM
    cfg.model.stats_topk = NUM_REGIONS
    cfg.model.update(model)
    for pipeline in (cfg.train_dataloader.dataset.pipeline, cfg.test_dataloader.dataset.pipeline):
        for transform in pipeline:
            if transform['type'] == 'LoadRegionFeatures':
                transform['topk'] = NUM_REGIONS
    cfg.custom_hooks[0]['step_size'] = REG_START
    cfg.param_scheduler = None
    cfg.test_evaluator = [
        dict(type='PointingGameMetric'),
        dict(type='BoxRecallMetric', topk=(1, 5, 10)),
        dict(type='ReIRBoxMetric', per_type=False),
    ]
    return cfg


def test_reir_learns_to_ground(learning_data, learning_baselines, tmp_path):
    """The full model (the recipe's WordNet label prior, Adam 1e-3, the regression on from
    iteration REG_START) after ITERS iterations: box accuracy (R@1, IoU >= 0.5 with any box
    of the phrase) at least 25 points above the detector-score baseline and 3 above the same
    model untrained; pointing (the fused box's centre) at least 40 above the centre baseline.

    Measured on the v2 learning build (``measure.py reir --iters 40 --seed S``, one thread;
    baselines: detector-score R@1 28.65, centre pointing 13.48): R@1 66.29 / 60.11 / 62.36 and
    pointing 69.66 / 64.61 / 65.73 for seeds 0 / 1 / 2; untrained (seed 0; the prior alone
    already picks a box of the phrase's category) R@1 55.06, pointing 60.67. With every loss
    multiplied by zero (seed 0) R@1 55.62 and pointing 60.11 (only BatchNorm's running
    statistics move), which fails the margin over the untrained model (by 2.4). That margin
    is narrow on v2 (the lowest seed is 2.0 above it) and pointing over the untrained model is
    not asserted (seed 1 is 3.9 above it, the zeroed run -0.6); 80 iterations do not widen
    it (R@1 66.29 / 56.74 / 67.42). On the v1 build: R@1 79.06 / 80.63 over an untrained
    71.73 / 69.63, zeroed 69.63; there the margins were det + 45, pointing centre + 70, and
    untrained + 4 / + 5. Without the label prior 40 iterations do not learn (v1: R@1 20.42
    trained, 19.37 untrained). About 35 s of training and testing plus 12 s for the untrained
    evaluation on one thread."""
    metrics = train_and_test(reir_config(learning_data, str(tmp_path / 'train')))
    before = evaluate_only(reir_config(learning_data, str(tmp_path / 'init'), iters=1))
    detector = learning_baselines['detector-score']['box_recall/R@1']
    centre = learning_baselines['centre']['pointing/accuracy']
    assert metrics['box_recall/R@1'] >= detector + 25, metrics
    assert metrics['pointing/accuracy'] >= centre + 40, metrics
    assert metrics['box_recall/R@1'] >= before['box_recall/R@1'] + 3, (metrics, before)
