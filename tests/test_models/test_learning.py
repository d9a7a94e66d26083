"""Learning tests: a few dozen iterations of each method's SynthGround recipe on the 150-image
build of ``tests/learning.py`` must beat the centre baseline (pointing game) and, for the box
methods, the detector-score baseline (R@1) by a margin measured first; gALBEF, whose maps
barely move in such a budget, must instead learn to match its training images to their
captions. CKD's test is in test_ckd.py, the example plugin's (InfoGround with a focal L_img)
in test_compose.py.

On the learning build (the default build, v2; test split, 178 phrases): centre baseline
pointing 13.48, detector-score baseline R@1 28.65 and pointing 33.71 (v1's: 2.09, 28.27,
30.89 over 191 phrases; v2's objects are larger). An untrained ALBEF already points at
objects (its Grad-CAM peaks on the pictograms, which stand out from the background), so the
AMC test also compares with the same model before training.

Every margin was set below the smallest value measured over seeds and above what the same
run reaches with the method's losses multiplied by zero; the values are in each docstring.
Measured with the scratch drivers ``measure.py METHOD --iters N --seed S [--zero]``
(``tests.learning.run``; ``--zero`` multiplies the total loss by zero in
``BaseModel.parse_losses``) and, for gALBEF, ``measure_galbef.py`` (``tests.learning.train``
and ``matching_auc``), with ``OMP_NUM_THREADS=1`` and one torch thread, on the shared 2-core
machine.
"""

import pytest
import torch

from tests.learning import (
    evaluate_only,
    matching_auc,
    method_config,
    run,
    train,
    train_on_first_images,
)

AMC_ITERS = 60
GALBEF_ITERS = 60
GALBEF_LR = 1e-3
GALBEF_IMAGES = 24  # the training images gALBEF's test trains on and is measured on
GALBEF_MIN_AUC = 0.70
INFOGROUND_ITERS = 60
INFOGROUND_LR = 3e-3  # the recipe's 1e-4 needs its 400 iterations


@pytest.fixture(autouse=True)
def one_thread():
    """The margins were measured on one thread, where a run is bitwise repeatable (gALBEF's
    also on two, where the reductions' order changes); a former pointing test of gALBEF with
    a 3-point margin was missed once on two threads (22.51 vs 19.90 untrained)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def centre(baselines):
    return baselines['centre']['pointing/accuracy']


def untrained_accuracy(method, data, work_dir):
    """Pointing accuracy of the model as built (seed 0), before any training step."""
    return evaluate_only(method_config(method, data, work_dir, iters=1))['pointing/accuracy']


def test_amc_learns_to_point(learning_data, learning_baselines, tmp_path):
    """AMC (the demo recipe: ALBEF at 64 px with the AMC loss, batch 32) after AMC_ITERS
    iterations: at least 20 points above the centre baseline and 5 above the untrained model.

    Measured on the v2 learning build (``measure.py amc --iters 60 --seed S``, 2026-12-03, the
    deterministic WordPiece vocabulary of ``synthground/vocab.py``; after 89993da, whose fused
    text passes draw the MLM masks first): 43.26 / 42.13 / 33.71 for seeds 0 / 1 / 2 (before
    89993da: 38.20 / 41.01 / 42.70); untrained (seed 0) 26.40; all losses multiplied by zero
    (seed 0) 26.40, which fails both margins (by 7 and 5). The test runs seed 0, 9.8 points
    above the threshold; seed 2 clears it by 0.2 only, so a change of the random streams can
    move a seed by that much. Before, ``tokenizers`` trained the vocabulary,
    differently in every process: three of its vocabularies gave 35.39 / 40.45 / 43.26 at seed
    0, and CI missed the margin twice (28.65, 29.21). (On the v1 build, with the text encoder's
    512-row vocabulary: 43.46 / 35.60, untrained 19.90.) About 55-75 s on one thread."""
    metrics = run('amc', learning_data, str(tmp_path / 'train'), iters=AMC_ITERS)
    accuracy = metrics['pointing/accuracy']
    assert accuracy >= centre(learning_baselines) + 20, metrics
    before = untrained_accuracy('amc', learning_data, str(tmp_path / 'init'))
    assert accuracy >= before + 5, (accuracy, before)


def test_galbef_learns_to_match(learning_data, tmp_path):
    """gALBEF (the same recipe without the AMC loss: ITC, ITM, no boxes) trained GALBEF_ITERS
    iterations at lr GALBEF_LR on the VG triplets and captions of the first GALBEF_IMAGES
    training images: its ITC ranks each of those images' own captions above the other
    images' captions, per-image AUC (0.5 is chance) at least GALBEF_MIN_AUC.

    Measured on the v2 learning build (``measure.py galbef-auc --iters 60 --seed S``, lr 1e-3,
    24 images, one thread; caption AUC; 2026-12-03, the deterministic vocabulary, after
    89993da): 0.9022 / 0.9266 / 0.9191 for seeds 0 / 1 / 2 (before 89993da: 0.9032 / 0.9213 /
    0.9133); all losses multiplied by zero (seed 0): 0.5060, which fails the margin (with
    earlier, per-process vocabularies: 0.8936 / 0.9260 / 0.8986). On the v1 build
    (``measure_galbef.py --iters 60 --images 24 --opts '{"lr": 1e-3}' --seed S --threads T``):
    0.9013 / 0.8532 / 0.8865 on one thread, 0.9013 / 0.8532 for seeds 0 / 1 on two threads;
    phrase AUC 0.80 / 0.76 / 0.80; zeroed 0.4422. The margin leaves 3x the larger spread of
    those runs (0.048) below the lowest. About 21 s of CPU time.

    Pointing is not the measure (these numbers are v1's): in 60 steps gALBEF barely moves its
    Grad-CAM (untrained 19.90; seed 0 trained at the recipe's lr 24.61 here, 25.13 in an
    earlier session and 20.42 on CI: noise of the size of the gain; at lr 1e-3 seeds 0 / 1 / 2
    give 32.46 / 29.84 / 28.80, a spread too wide for a margin over the untrained model), and
    ITC over the whole learning build learns too little in the budget to leave room for one
    (120 steps at lr 1e-3, seeds 0 / 1 / 2: caption AUC 0.68 / 0.50 / 0.55 on the 20 test
    images, 0.71 / 0.65 / 0.67 on the 119 training images). ITM does not leave the class prior
    on SynthGround
    (docs/methods/selfeq.md), so only ITC is asserted."""
    cfg = method_config('galbef', learning_data, str(tmp_path), iters=GALBEF_ITERS, lr=GALBEF_LR)
    split = train_on_first_images(cfg, learning_data, GALBEF_IMAGES)
    model = train(cfg).model
    auc = matching_auc(model, cfg, split=split, texts='captions', heads=('itc',))['itc']
    assert auc >= GALBEF_MIN_AUC, auc


def test_infoground_learns_to_ground(learning_data, learning_baselines, tmp_path):
    """InfoGround (L_img, the no-negatives recipe, a small random frozen BERT for the words)
    after INFOGROUND_ITERS iterations at lr INFOGROUND_LR: pointing (the top box's centre) at
    least 4 points above the detector-score baseline's pointing and 20 above the centre
    baseline, R@1 no more than 5 below the detector-score baseline's R@1.

    Measured on the v2 learning build (scratch driver: ``tests.learning.run('infoground', ...,
    iters=60, lr=3e-3, seed=S)``, one thread, 2026-12-03, the deterministic vocabulary;
    baselines: centre pointing 13.48, detector-score R@1 28.65 and pointing 33.71): pointing
    44.38 / 43.82 / 42.13 and R@1 33.15 / 33.71 / 30.34 for seeds 0 / 1 / 2; with the total
    loss multiplied by zero (seed 0) pointing 19.10 and R@1 13.48, which fail every margin (by
    19, 15 and 10). The pointing gap over the detector (8.4-10.7) is 4x the seed spread
    (2.25); the threshold (37.71) is 4.4 below the lowest seed. (With the earlier per-process
    vocabularies, 2026-12-02: pointing 43.82 / 42.13 / 41.57, R@1 34.27 / 33.15 / 30.34.)
    Not measured on two threads. At lr 1e-3 (the former setting): R@1 32.02 / 28.65 / 30.34,
    pointing 38.76 / 38.76 / 40.45 (seed 0 on this machine: 32.58 / 39.89), too close to the
    detector's pointing for a margin.

    R@1 does not beat the detector-score baseline by a margin in any budget tried (seed 0):
    150 iterations give 29.78 (lr 1e-3) and 32.02 (lr 3e-3); batch 100 27.53; a frozen BERT of
    width 64 / 128 35.39 / 32.58, embeddings only (no layer) 30.90 / 27.53; on the 119
    training images' phrases 28.36 (lr 1e-3) and 34.10 (lr 3e-3) vs the detector's 31.18. The
    object's box competes with random boxes over part of it, which pixel features pooled on
    4 x 4 hardly tell apart (R@5 72-84 against the detector's 93), so R@1 checks against
    collapse and pointing carries the margin (on the v1 build: R@1 42.41 / 42.93 over a
    baseline of 28.27, zeroed 27.75)."""
    metrics = run(
        'infoground', learning_data, str(tmp_path), iters=INFOGROUND_ITERS, lr=INFOGROUND_LR
    )
    detector = learning_baselines['detector-score']
    assert metrics['box_recall/R@1'] >= detector['box_recall/R@1'] - 5, metrics
    assert metrics['pointing/accuracy'] >= detector['pointing/accuracy'] + 4, metrics
    assert metrics['pointing/accuracy'] >= centre(learning_baselines) + 20, metrics
