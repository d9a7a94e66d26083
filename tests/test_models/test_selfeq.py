"""SelfEQGrounder on tiny inputs: the paraphrase branch, gradients through both maps, learning."""

import pytest
import torch

from mmgrounding.registry import MODELS

from .albef_tiny import tiny_albef_cfg, write_vocab
from .test_albef import samples

PARAPHRASES = ['a crimson circle', 'the blue square on the right', None, 'a big circle']


def selfeq_cfg(vocab, **overrides):
    cfg = tiny_albef_cfg(vocab, type='SelfEQGrounder', amc_loss=None)
    cfg['explainer'] = dict(cfg['explainer'], normalize='minmax')
    cfg.update(overrides)
    return cfg


def with_paraphrases(batch, paraphrases=PARAPHRASES):
    for sample, para in zip(batch, paraphrases):
        sample.set_metainfo(dict(paraphrase=para))
    return batch


@pytest.fixture
def vocab(tmp_path):
    return write_vocab(tmp_path / 'vocab.txt')


def test_losses_of_both_branches_and_the_share_with_a_paraphrase(vocab):
    torch.manual_seed(0)
    model = MODELS.build(selfeq_cfg(vocab))
    losses = model.loss(torch.randn(4, 3, 32, 32), with_paraphrases(samples()))
    assert set(losses) == {
        'loss_itc',
        'loss_itm',
        'loss_mlm',
        'loss_para_itc',
        'loss_para_itm',
        'loss_para_mlm',
        'loss_sim',
        'loss_cst',
        'paraphrase_frac',
    }
    assert losses['paraphrase_frac'].item() == pytest.approx(0.75)  # one sample has none
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['loss_sim'] > 0 and losses['loss_cst'] > 0
    # the queue holds the originals only
    assert int(model.queue_ptr) == 4


def test_no_paraphrase_skips_the_branch_with_zero_losses(vocab):
    torch.manual_seed(0)
    model = MODELS.build(selfeq_cfg(vocab))
    losses = model.loss(
        torch.randn(4, 3, 32, 32), with_paraphrases(samples(), [None, None, 'a big circle', None])
    )
    assert losses['paraphrase_frac'].item() == pytest.approx(0.25)
    assert losses['loss_sim'].item() == 0 and losses['loss_para_itc'].item() == 0
    sum(v for k, v in losses.items() if 'loss' in k).backward()  # the graph stays connected


def test_consistency_gradients_reach_the_fusion_layers_through_both_maps(vocab):
    torch.manual_seed(0)
    model = MODELS.build(selfeq_cfg(vocab))
    seen = {}
    forward = model.consistency_loss.forward

    def spy(cam, cam_para):
        seen['maps'] = (cam, cam_para)
        return forward(cam, cam_para)

    model.consistency_loss.forward = spy
    losses = model.loss(torch.randn(4, 3, 32, 32), with_paraphrases(samples()))
    cam, cam_para = seen['maps']
    assert cam.shape == cam_para.shape == (3, 4, 4)
    # the fusion layer after the explained one (layers.0) and the image encoder get a
    # gradient from each map alone: the double backward runs through both Grad-CAMs
    params = [
        model.fusion.layers[1].output.dense.weight,
        model.fusion.layers[0].crossattention.self.query.weight,
        model.image_encoder.patch_embed.proj.weight,
    ]
    for maps in (cam, cam_para):
        grads = torch.autograd.grad(
            (maps * torch.rand_like(maps)).sum(), params, retain_graph=True, allow_unused=True
        )
        assert all(g is not None and g.abs().sum() > 0 for g in grads)
    grads = torch.autograd.grad(losses['loss_sim'] + losses['loss_cst'], params)
    assert all(g.abs().sum() > 0 for g in grads)


def test_official_paraphrase_step_trains_the_originals_only_through_their_maps(vocab):
    torch.manual_seed(0)
    model = MODELS.build(selfeq_cfg(vocab, original_losses=False))
    losses = model.loss(torch.randn(4, 3, 32, 32), with_paraphrases(samples()))
    assert losses['loss_itc'].item() == losses['loss_itm'].item() == 0
    assert losses['loss_para_itc'] > 0


def consistency_after_training(
    vocab, *, weight: float, steps: int = 30, seed: int = 0
) -> tuple[float, float]:
    """(L_sim, L_cst), unweighted, on a fixed batch after ``steps`` AdamW steps of the whole
    SelfEQ objective whose consistency weights are ``weight`` (0: ALBEF + paraphrase ITC, ITM
    and MLM only), from the model and random stream of ``seed``."""
    torch.manual_seed(seed)
    model = MODELS.build(
        selfeq_cfg(
            vocab,
            self_consistency_loss=dict(
                type='SelfConsistencyLoss', weight_sim=weight, weight_cst=0.5 * weight
            ),
        )
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(1)
    images = torch.randn(4, 3, 32, 32, generator=generator)
    batch = with_paraphrases(samples())
    for _ in range(steps):
        losses = model.loss(images, batch)
        optimizer.zero_grad()
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        optimizer.step()
    probe = MODELS.build(dict(type='SelfConsistencyLoss', weight_sim=1.0, weight_cst=1.0))
    model.consistency_loss = probe
    losses = model.loss(images, batch)
    return float(losses['loss_sim'].detach()), float(losses['loss_cst'].detach())


def test_selfeq_learns_consistent_explanations(vocab):
    # Measured (L_sim after 30 steps with the SelfEQ loss ÷ with its weights at 0, seeds 0 / 1
    # / 2): 0.460 / 0.049 / 0.158, and 0.004-0.009x the initial L_sim (the code of 2026-12-03:
    # one text-encoder and one fusion pass for ITM and MLM, which draws its random numbers in
    # another order); the previous code's seed 0 gave 0.014 (0.033 on this build), but seed
    # 200 0.273: one seed is no margin. Asked: every seed below 0.1x its initial L_sim (11x
    # margin) and the median ratio below 0.5 (3x; weights at 0 on both sides give 1). L_cst
    # is not asserted: with the official masked-map stds it has a floor (a map peaked on one
    # pixel keeps a std of 0.25) and ends at 0.49 against 0.61 (30 steps), 0.45 (60 steps).
    ratios = []
    for seed in range(3):
        initial, _ = consistency_after_training(vocab, weight=1.0, steps=0, seed=seed)
        with_loss, _ = consistency_after_training(vocab, weight=1.0, seed=seed)
        without, _ = consistency_after_training(vocab, weight=0.0, seed=seed)
        assert with_loss < 0.1 * initial, (seed, initial, with_loss)
        ratios.append(with_loss / without)
    assert sorted(ratios)[1] < 0.5, ratios
