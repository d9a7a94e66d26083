"""docs/compose.md: its config files load and do what the page says; the example plugin
(projects/example_plugin) registers a loss from outside mmgrounding that a config selects
through ``custom_imports``, gives hand-derived values and trains through tools/train.py."""

import math
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mmgrounding.models.losses.infoground_image_loss import (
    InfoGroundImageLoss,
    infoground_image_loss,
)
from mmgrounding.registry import MODELS
from tests.test_configs import is_registered, types_in
from tests.test_models.test_infoground_grounder import (
    CAPTIONS,
    make_samples,
    tiny_infoground_cfg,
    write_vocab,
)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PLUGIN_DIR = osp.join(REPO, 'projects', 'example_plugin')
EXAMPLE_CONFIG = osp.join(PLUGIN_DIR, 'configs', 'infoground_focal-img_synthground.py')
NO_NEGATIVES_CONFIG = osp.join(
    REPO, 'configs', 'infoground', 'infoground_mlm-tiny_1xb50-400it_synthground-no-negatives.py'
)
DOC = osp.join(REPO, 'docs', 'compose.md')


@pytest.fixture
def plugin_on_path(monkeypatch):
    """What ``PYTHONPATH=projects/example_plugin`` does, for this process."""
    monkeypatch.syspath_prepend(PLUGIN_DIR)


def plugin():
    """The plugin package (import it only with ``plugin_on_path``)."""
    import example_plugin

    return example_plugin


# ---------------------------------------------------------------------- (i) config and model
def test_example_config_builds_the_grounder_with_the_plugin_loss(plugin_on_path, tmp_path):
    cfg = Config.fromfile(EXAMPLE_CONFIG)  # imports custom_imports, as the tools do
    focal_cls = plugin().FocalInfoGroundImageLoss
    assert MODELS.get('FocalInfoGroundImageLoss') is focal_cls
    assert cfg.custom_imports == dict(imports=['example_plugin'], allow_failed_imports=False)
    assert cfg.model.image_loss == dict(type='FocalInfoGroundImageLoss', gamma=2.0)
    # everything else is the "no negatives" row's
    base = Config.fromfile(NO_NEGATIVES_CONFIG)
    assert {k: v for k, v in cfg.model.items() if k != 'image_loss'} == {
        k: v for k, v in base.model.items() if k != 'image_loss'
    }
    assert cfg.model.language_loss is None
    for key in (
        'train_dataloader',
        'val_dataloader',
        'test_dataloader',
        'train_cfg',
        'optim_wrapper',
        'default_scope',
    ):
        assert cfg[key] == base[key], key

    # built with a tiny random frozen encoder in place of SynthGround's masked LM
    tiny = tiny_infoground_cfg(write_vocab(tmp_path / 'vocab.txt'))
    for key in ('text_encoder', 'tokenizer', 'attention'):
        cfg.model[key] = tiny[key]  # replaced, not merged (ConfigDict.update would merge)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert type(model.image_loss) is focal_cls and model.image_loss.gamma == 2.0
    assert model.language_loss is None

    # the grounder's loss_img is the focal loss of its φ, below the plain L_img
    model.eval()
    losses = model.loss(None, make_samples())
    assert set(losses) == {'loss_img'}
    words, word_mask, offsets = model.encode_text(CAPTIONS, torch.device('cpu'))
    regions, region_mask = model._regions(make_samples())
    phi, _ = model.attention(
        regions, words, region_mask=region_mask, word_mask=word_mask, all_pairs=True
    )  # (B, B, L)
    token_mask = torch.stack([model.selected_tokens(c, o) for c, o in zip(CAPTIONS, offsets)])
    expected = plugin().focal_infoground_image_loss(phi, token_mask, gamma=2.0)[token_mask]
    assert losses['loss_img'].item() == pytest.approx(expected.mean().item(), rel=1e-5)
    assert losses['loss_img'].item() < InfoGroundImageLoss()(phi, token_mask).item()


def test_example_config_without_the_plugin_path_names_the_import():
    env = dict(os.environ, PYTHONPATH='')
    code = f'from mmengine.config import Config; Config.fromfile({EXAMPLE_CONFIG!r})'
    proc = subprocess.run(
        [sys.executable, '-c', code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0
    assert "Failed to import custom modules from {'imports': ['example_plugin']" in proc.stderr
    assert 'You should set `PYTHONPATH`' in proc.stderr


# ---------------------------------------------------------------------- (ii) the loss by hand
# 2 captions, 2 images, 1 token. Caption 0: φ = (log 3, 0), p(own image 0) = 3/4,
# L_img = log(4/3). Caption 1: φ = (0, 0), p(own image 1) = 1/2, L_img = log 2.
PHI = torch.tensor([[[math.log(3.0)], [0.0]], [[0.0], [0.0]]])
ALL = torch.ones(2, 1, dtype=torch.bool)


def test_focal_image_loss_by_hand(plugin_on_path):
    focal = plugin().focal_infoground_image_loss
    # γ = 2: (1 − 3/4)² log(4/3) = log(4/3) / 16; (1 − 1/2)² log 2 = log(2) / 4
    torch.testing.assert_close(
        focal(PHI, ALL, gamma=2.0), torch.tensor([[math.log(4 / 3) / 16], [math.log(2) / 4]])
    )
    # γ = 1: log(4/3) / 4; log(2) / 2
    torch.testing.assert_close(
        focal(PHI, ALL, gamma=1.0), torch.tensor([[math.log(4 / 3) / 4], [math.log(2) / 2]])
    )
    # temperature 0.5 doubles φ: caption 0 p = 9/10 -> (1/10)² log(10/9); caption 1 as before
    torch.testing.assert_close(
        focal(PHI, ALL, gamma=2.0, temperature=0.5),
        torch.tensor([[math.log(10 / 9) / 100], [math.log(2) / 4]]),
    )
    # two positives of three images: φ = (0, 0, log 2), p = (1/4, 1/4, 1/2); L_img is the mean
    # of −log 1/4 over the positives = log 4, p = exp(−log 4) = 1/4 -> (3/4)² log 4
    phi = torch.tensor([[[0.0], [0.0], [math.log(2.0)]]])
    positives = torch.tensor([[True, True, False]])
    torch.testing.assert_close(
        focal(phi, torch.ones(1, 1, dtype=torch.bool), positives=positives, gamma=2.0),
        torch.tensor([[9 / 16 * math.log(4.0)]]),
    )


def test_focal_image_loss_wrapper_reduces_and_builds_from_the_registry(plugin_on_path):
    plugin()  # registers the loss
    per_token = [math.log(4 / 3) / 16, math.log(2) / 4]
    loss = MODELS.build(dict(type='FocalInfoGroundImageLoss', gamma=2.0, loss_weight=3.0))
    assert float(loss(PHI, ALL)) == pytest.approx(3.0 * sum(per_token) / 2, rel=1e-6)
    summed = MODELS.build(dict(type='FocalInfoGroundImageLoss', reduction='sum'))
    assert float(summed(PHI, ALL)) == pytest.approx(sum(per_token), rel=1e-6)
    # only caption 1's token selected: the mean is over 1 token
    mask = torch.tensor([[False], [True]])
    assert float(loss(PHI, mask)) == pytest.approx(3.0 * per_token[1], rel=1e-6)
    with pytest.raises(ValueError, match='gamma'):
        MODELS.build(dict(type='FocalInfoGroundImageLoss', gamma=-1.0))


@pytest.mark.parametrize('with_positives', [False, True])
def test_focal_image_loss_at_gamma_0_is_the_image_loss(plugin_on_path, with_positives):
    gen = torch.Generator().manual_seed(0)
    phi = torch.randn(3, 3, 5, generator=gen) * 3
    mask = torch.rand(3, 5, generator=gen) > 0.3
    # captions 0 and 2 show the same image
    positives = torch.tensor([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=torch.bool)
    positives = positives if with_positives else None
    torch.testing.assert_close(
        plugin().focal_infoground_image_loss(
            phi, mask, positives=positives, gamma=0.0, temperature=0.7
        ),
        infoground_image_loss(phi, mask, positives=positives, temperature=0.7),
    )
    for reduction in ('mean', 'sum', 'none'):
        kwargs = dict(temperature=0.7, loss_weight=2.0, reduction=reduction)
        phi_a, phi_b = phi.clone().requires_grad_(), phi.clone().requires_grad_()
        focal = plugin().FocalInfoGroundImageLoss(gamma=0.0, **kwargs)(phi_a, mask, positives)
        plain = InfoGroundImageLoss(**kwargs)(phi_b, mask, positives)
        torch.testing.assert_close(focal, plain)
        focal.sum().backward()
        plain.sum().backward()
        torch.testing.assert_close(phi_a.grad, phi_b.grad)


def test_focal_image_loss_properties(plugin_on_path):
    focal = plugin().focal_infoground_image_loss
    gen = torch.Generator().manual_seed(1)
    phi = torch.randn(4, 4, 6, generator=gen) * 2
    mask = torch.rand(4, 6, generator=gen) > 0.5
    plain = infoground_image_loss(phi, mask)
    # (1 − p)^γ lies in [0, 1] and falls with γ: 0 <= γ=2 <= γ=1 <= L_img, 0 off the mask
    two, one = focal(phi, mask, gamma=2.0), focal(phi, mask, gamma=1.0)
    assert (two >= 0).all() and (two <= one).all() and (one <= plain + 1e-7).all()
    assert (two[~mask] == 0).all()
    # a token already certain of its image (p = 1 in float, L_img = 0) and unselected tokens
    # keep finite gradients even for γ < 1, where d(1 − p)^γ/dp is infinite at p = 1
    phi = torch.tensor([[[100.0], [-100.0]], [[0.1], [0.3]]], requires_grad=True)  # (2, 2, 1)
    loss = focal(phi, torch.tensor([[True], [False]]), gamma=0.5)
    assert loss[0, 0] == 0 and loss[1, 0] == 0
    loss.sum().backward()
    assert torch.isfinite(phi.grad).all()
    with pytest.raises(ValueError, match='gamma'):
        focal(PHI, ALL, gamma=-0.5)


# ---------------------------------------------------------------------- (iii) real training
COMPOSE_ITERS = 60
COMPOSE_LR = 3e-3  # InfoGround's learning test (tests/test_models/test_learning.py)


def test_train_tool_trains_the_example_config(learning_data, learning_baselines, tmp_path):
    """The documented command, on a config that inherits the example: a small random frozen
    BERT (words encoded online, no word cache) and the learning build's region cache of pixel
    features (tests/learning.py), COMPOSE_ITERS iterations at lr COMPOSE_LR (InfoGround's
    learning-test setting), validation on the test split. The focal-loss grounder learns to
    ground: pointing (the top box's centre) at least 4 points above the detector-score
    baseline's pointing (33.71 on the v2 learning build) and R@1 no more than 5 below its R@1
    (28.65), the margins of InfoGround's learning test.

    Measured on the v2 learning build (this config through tools/train.py, one thread,
    2026-12-03; scratch driver, seeds by ``randomness.seed``): pointing 43.82 / 43.26 / 43.26
    and R@1 32.58 / 32.58 / 31.46 for seeds 0 / 1 / 2; with the focal loss's ``loss_weight=0``
    (seed 0) pointing 19.10 and R@1 13.48, which fail both bounds (by 18.6 and 10.2). The
    pointing threshold (37.71) is 5.5 below the lowest seed. At lr 1e-3 (the former setting,
    which asserted R@1 only) seed 0 gave pointing 38.76, R@1 31.46 (30.34 in an earlier run:
    the build's WordPiece vocabulary was not deterministic then).
    """
    from tests.learning import NUM_REGIONS, REGION_DIM, bert_cfg

    root, cache_dir, vocab = learning_data['root'], learning_data['cache'], learning_data['vocab']
    bert = bert_cfg(vocab, 32)
    config = tmp_path / 'infoground_focal-img_tiny.py'
    config.write_text(f"""
_base_ = [{EXAMPLE_CONFIG!r}]
data_root = {root!r}
region_cache = {cache_dir!r}
model = dict(
    text_encoder=dict(_delete_=True, type='BertTextEncoder', config={bert!r}, num_layers=1),
    tokenizer=dict(_delete_=True, vocab_file={vocab!r}),
    attention=dict(region_dim={REGION_DIM}, word_dim=32, embed_dim=32))
train_pipeline = [
    dict(type='LoadRegionFeatures', cache_dir=region_cache, topk={NUM_REGIONS}),
    dict(type='PackGroundingInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadRegionFeatures', cache_dir=region_cache, topk={NUM_REGIONS}),
    dict(type='LoadGroundingAnnotations'),
    dict(type='PackGroundingInputs'),
]
loader = dict(num_workers=0, persistent_workers=False)
train_dataloader = dict(loader, dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(loader, dataset=dict(data_root=data_root, pipeline=test_pipeline,
                                           ann_file='flickr30k_entities/test.txt'))
test_dataloader = val_dataloader
train_cfg = dict(max_iters={COMPOSE_ITERS}, val_interval={COMPOSE_ITERS})
optim_wrapper = dict(optimizer=dict(lr={COMPOSE_LR}))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=6)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval={COMPOSE_ITERS}))
log_processor = dict(window_size=1)
""")
    work_dir = tmp_path / 'work'
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PYTHONPATH=os.pathsep.join(filter(None, [PLUGIN_DIR, os.environ.get('PYTHONPATH')])),
    )
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', str(config), '--work-dir', str(work_dir)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    losses = re.findall(r'Iter\(train\) \[\s*\d+/\d+\].*loss_img: ([\d.]+)', log)
    assert len(losses) == COMPOSE_ITERS
    recall = re.findall(r'Iter\(val\) .*box_recall/R@1: ([\d.]+)', log)
    pointing = re.findall(r'Iter\(val\) .*pointing/accuracy: ([\d.]+)', log)
    assert len(recall) == 1 and len(pointing) == 1, log[-3000:]
    detector = learning_baselines['detector-score']
    assert float(pointing[0]) >= detector['pointing/accuracy'] + 4, (pointing, detector)
    assert float(recall[0]) >= detector['box_recall/R@1'] - 5, (recall, detector)
    checkpoint = torch.load(
        work_dir / f'iter_{COMPOSE_ITERS}.pth', map_location='cpu', weights_only=False
    )
    assert checkpoint['meta']['iter'] == COMPOSE_ITERS
    assert "type='FocalInfoGroundImageLoss'" in checkpoint['meta']['cfg']
    assert 'attention.word_query.0.weight' in checkpoint['state_dict']


# ---------------------------------------------------------------------- the page itself
def doc_config_files():
    """(path, text) of each python block of compose.md that starts with its file path."""
    with open(DOC, encoding='utf-8') as f:
        blocks = re.findall(r'```python\n(.*?)```', f.read(), flags=re.S)
    files = []
    for block in blocks:
        first, _, rest = block.partition('\n')
        if re.fullmatch(r'# (configs|projects)/\S+\.py', first):
            files.append((first[2:], rest))
    return files


def mirror(src: str, dst: str) -> None:
    """Real folders with links to the files: new files land next to the real configs."""
    for folder, _, names in os.walk(src):
        target = osp.join(dst, osp.relpath(folder, src))
        os.makedirs(target, exist_ok=True)
        for name in names:
            os.symlink(osp.join(folder, name), osp.join(target, name))


def region_loads(cfg):
    """(loader, cache_dir, topk) of every LoadRegionFeatures of the three loaders."""
    return [
        (loader, t['cache_dir'], t.get('topk'))
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
        if cfg.get(loader)
        for t in cfg[loader]['dataset']['pipeline']
        if t['type'] == 'LoadRegionFeatures'
    ]


MY_CACHE = 'data/synthground/regions/my-detector/'
# what each recipe file must do, beyond loading
EXPECTED = {
    'ckd-nce_lstm_1xb32-600it_synthground-refcoco-testB.py': lambda cfg, base: (
        cfg.test_dataloader.dataset.type == 'RefCOCODataset'
        and cfg.test_dataloader.dataset.split == 'testB'
        and cfg.test_dataloader.dataset.pipeline == base.test_dataloader.dataset.pipeline
        and cfg.model == base.model
        and cfg.test_evaluator == base.test_evaluator
    ),
    'infoground_mlm-tiny_1xb50-400it_synthground-reranked-top10.py': lambda cfg, base: (
        [k for _, _, k in region_loads(cfg)] == [10, 10, 10]
        and [c for _, c, _ in region_loads(cfg)] == [c for _, c, _ in region_loads(base)]
    ),
    'infoground_mlm-tiny_1xb50-400it_synthground-reranked-my-detector.py': lambda cfg, base: (
        [c for _, c, _ in region_loads(cfg)] == [MY_CACHE] * 3
        and cfg.model.attention.region_dim == 1024
        and cfg.train_dataloader.dataset.pipeline[1] == base.train_dataloader.dataset.pipeline[1]
    ),
    'ckd-nce-distill_lstm_1xb32-600it_synthground-my-detector.py': lambda cfg, base: (
        [c for _, c, _ in region_loads(cfg)] == [MY_CACHE] * 3
        and cfg.model.cache_dir == MY_CACHE
        and cfg.model.region_branch.in_dim == 1024
        and cfg.train_dataloader.dataset.pipeline[1]['with_class_probs']
        and cfg.custom_hooks[0]['max_weight'] == 3
    ),
    'detector-score_synthground_flickr30k-my-detector.py': lambda cfg, base: (
        [(c, k) for _, c, k in region_loads(cfg)] == [(MY_CACHE, 10)] * 2
    ),
    'infoground_mlm-tiny_1xb50-400it_synthground-reranked-lang0.5.py': lambda cfg, base: (
        cfg.model.language_loss == dict(type='InfoGroundLanguageLoss', loss_weight=0.5)
        and cfg.model.image_loss == base.model.image_loss
    ),
    'amc_albef-tiny_1xb32-900it_synthground-mix-amc0.5-max.py': lambda cfg, base: (
        cfg.model.loss_weights == dict(mlm=0.0, amc=0.5)
        and cfg.model.amc_loss == dict(type='AMCLoss', variant='max')
    ),
}


def test_doc_config_files_load_and_do_what_the_page_says(plugin_on_path, tmp_path):
    files = doc_config_files()
    assert {osp.basename(p) for p, _ in files} >= set(EXPECTED)
    for top in ('configs', 'projects'):
        mirror(osp.join(REPO, top), str(tmp_path / top))
    for path, text in files:
        if osp.exists(osp.join(REPO, path)):  # an existing file: the page shows it as it is
            with open(osp.join(REPO, path), encoding='utf-8') as f:
                assert text == f.read(), f'{path} on the page differs from the file'
        else:
            (tmp_path / path).write_text(text)
        cfg = Config.fromfile(str(tmp_path / path))
        missing = [f'{w}: {n}' for w, n in types_in(cfg.to_dict()) if not is_registered(n)]
        assert not missing, f'{path} names unregistered types: {missing}'
        check = EXPECTED.get(osp.basename(path))
        if check is not None:
            base_file = re.search(r"_base_ = \[\s*'([^']+)'", text).group(1)
            base = Config.fromfile(osp.join(osp.dirname(str(tmp_path / path)), base_file))
            assert check(cfg, base), path
