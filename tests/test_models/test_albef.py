"""ALBEFGrounder on tiny inputs: losses, gradients, batched explanation, teacher, queue."""

import pytest
import torch
from mmengine.structures import InstanceData

from mmgrounding.models.grounders.utils import rank_boxes_by_heatmap
from mmgrounding.registry import MODELS
from mmgrounding.structures import GroundingDataSample

from .albef_tiny import tiny_albef_cfg, write_vocab


def samples(n=4):
    out = []
    for i in range(n):
        sample = GroundingDataSample()
        sample.set_metainfo(
            dict(
                caption=[
                    'a red circle',
                    'the blue square on the left',
                    'small green star',
                    'a large circle',
                ][i % 4],
                img_id=str(i // 2),
                img_shape=(32, 32),
                ori_shape=(32, 32),
                phrases=['a red circle', 'blue square', 'star'],
            )
        )
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[0.0, 0.0, 16.0, 16.0]]), labels=torch.tensor([0])
        )
        out.append(sample)
    return out


@pytest.fixture
def vocab(tmp_path):
    return write_vocab(tmp_path / 'vocab.txt')


def test_losses_are_finite_and_train_every_student_parameter(vocab):
    torch.manual_seed(0)
    model = MODELS.build(tiny_albef_cfg(vocab))
    losses = model.loss(torch.randn(4, 3, 32, 32), samples())
    assert set(losses) == {'loss_itc', 'loss_itm', 'loss_mlm', 'loss_amc'}
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    teacher = ('image_encoder_m', 'text_encoder_m', 'vision_proj_m', 'text_proj_m')
    for name, param in model.named_parameters():
        if name.startswith(teacher):
            assert not param.requires_grad
        elif param.requires_grad and 'position_embeddings' not in name and 'token_type' not in name:
            assert param.grad is not None, name
    # the queue holds this batch's teacher features and image ids
    assert int(model.queue_ptr) == 4
    assert model.idx_queue[0, :4].tolist() == [0, 0, 1, 1]


def test_amc_loss_reaches_the_image_encoder_only_through_grad_cam(vocab):
    torch.manual_seed(0)
    model = MODELS.build(tiny_albef_cfg(vocab, loss_weights=dict(itc=0, itm=0, mlm=0)))
    losses = model.loss(torch.randn(4, 3, 32, 32), samples())
    assert losses['loss_amc'] > 0
    losses['loss_amc'].backward()
    # the second-order path trains the image encoder and the fusion layers
    assert model.image_encoder.patch_embed.proj.weight.grad.abs().sum() > 0
    assert model.fusion.layers[1].output.dense.weight.grad.abs().sum() > 0


def test_mean_text_pooling_trains_and_unknown_pooling_is_rejected(vocab):
    torch.manual_seed(0)
    model = MODELS.build(tiny_albef_cfg(vocab, text_pool='mean'))
    losses = model.loss(torch.randn(4, 3, 32, 32), samples())
    assert all(torch.isfinite(v) for v in losses.values())
    with pytest.raises(ValueError, match='text_pool'):
        MODELS.build(tiny_albef_cfg(vocab, text_pool='max'))


def test_zero_mlm_weight_builds_no_mlm_head_and_skips_its_passes(vocab):
    model = MODELS.build(tiny_albef_cfg(vocab, loss_weights=dict(mlm=0)))
    assert model.mlm_head is None
    assert not any(name.startswith('mlm_head') for name, _ in model.named_parameters())
    calls = []
    model._mlm = lambda *args: calls.append(args)
    losses = model.loss(torch.randn(4, 3, 32, 32), samples())
    assert set(losses) == {'loss_itc', 'loss_itm', 'loss_amc'} and not calls
    # every trainable parameter gets a gradient (DDP needs no find_unused_parameters)
    sum(losses.values()).backward()
    teacher = ('image_encoder_m', 'text_encoder_m', 'vision_proj_m', 'text_proj_m')
    missing = [
        name
        for name, p in model.named_parameters()
        if p.requires_grad
        and not name.startswith(teacher)
        and p.grad is None
        and 'position_embeddings' not in name
        and 'token_type' not in name
    ]
    assert missing == []


def test_galbef_has_no_amc_loss(vocab):
    model = MODELS.build(tiny_albef_cfg(vocab, amc_loss=None))
    assert 'loss_amc' not in model.loss(torch.randn(4, 3, 32, 32), samples())


def test_batched_phrases_equal_one_phrase_per_pass(vocab):
    torch.manual_seed(0)
    model = MODELS.build(tiny_albef_cfg(vocab)).eval()
    image = torch.randn(1, 3, 32, 32)
    phrases = ['a red circle', 'the blue square on the left', 'star']
    batched = model.explain_phrases(image, phrases)
    single = torch.cat([model.explain_phrases(image, [p]) for p in phrases])
    assert batched.shape == (3, 4, 4)
    torch.testing.assert_close(batched, single, atol=1e-5, rtol=1e-5)
    predicted = model.predict(image, samples(1))[0]
    assert predicted.pred_heatmaps.shape == (3, 4, 4)
    assert 'pred_boxes' not in predicted  # no proposals, no boxes


def test_proposals_are_ranked_by_heatmap_mass_over_root_area(vocab):
    torch.manual_seed(0)
    model = MODELS.build(tiny_albef_cfg(vocab)).eval()
    sample = samples(1)[0]
    boxes = torch.tensor([[0.0, 0.0, 32.0, 32.0], [0.0, 0.0, 8.0, 8.0], [16.0, 16.0, 32.0, 24.0]])
    sample.proposals = InstanceData(bboxes=boxes)
    predicted = model.predict(torch.randn(1, 3, 32, 32), [sample])[0]
    assert predicted.pred_boxes.shape == (3, 3, 4) and predicted.pred_scores.shape == (3, 3)
    expected_boxes, expected_scores = rank_boxes_by_heatmap(
        predicted.pred_heatmaps, boxes, (32, 32)
    )
    torch.testing.assert_close(predicted.pred_scores, expected_scores)
    torch.testing.assert_close(predicted.pred_boxes, expected_boxes)
    assert (predicted.pred_scores[:, :-1] >= predicted.pred_scores[:, 1:]).all()


def test_teacher_follows_student_by_decay(vocab):
    model = MODELS.build(tiny_albef_cfg(vocab, teacher_decay=0.5))
    with torch.no_grad():
        model.vision_proj.weight.fill_(1.0)
        model.vision_proj_m.weight.fill_(0.0)
    model._update_teacher()
    # teacher = 0.5 * 0 + 0.5 * 1
    assert torch.allclose(
        model.vision_proj_m.weight, torch.full_like(model.vision_proj.weight, 0.5)
    )


def test_missing_vocabulary_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match='vocab'):
        MODELS.build(tiny_albef_cfg(str(tmp_path / 'missing.txt')))


def test_bfloat16_autocast_step_keeps_float32_queues(vocab):
    # issue 14: under autocast the teacher features are bfloat16; the queue update used to
    # raise "Index put requires the source and destination dtypes match"
    torch.manual_seed(0)
    model = MODELS.build(tiny_albef_cfg(vocab))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model.loss(torch.randn(4, 3, 32, 32), samples())
    assert set(losses) == {'loss_itc', 'loss_itm', 'loss_mlm', 'loss_amc'}
    assert all(torch.isfinite(v.float()) for v in losses.values())
    sum(losses.values()).backward()
    assert model.image_queue.dtype == model.text_queue.dtype == torch.float32
    assert int(model.queue_ptr) == 4
    # the enqueued columns are the (unit-norm) teacher features, not the initial noise
    norms = model.image_queue[:, :4].norm(dim=0)
    torch.testing.assert_close(norms, torch.ones(4), atol=2e-2, rtol=0)


def test_explained_galbef_step_gives_maps_without_amc(vocab):
    # albef_losses(explain=True) is what SelfEQ builds on: maps of the B positives, with a
    # graph, while the losses are plain ALBEF's
    torch.manual_seed(0)
    model = MODELS.build(tiny_albef_cfg(vocab, amc_loss=None))
    losses, state = model.albef_losses(torch.randn(4, 3, 32, 32), samples(), explain=True)
    assert set(losses) == {'loss_itc', 'loss_itm', 'loss_mlm'}
    assert state['cam'].shape == (4, 4, 4) and state['cam'].requires_grad
    assert state['image_embeds'].shape[0] == state['idx'].shape[0] == 4
    _, state = model.albef_losses(torch.randn(4, 3, 32, 32), samples(), explain=False)
    assert state['cam'] is None


def test_explaining_the_positives_alone_gives_the_same_losses_and_maps(vocab):
    images = torch.randn(4, 3, 32, 32)
    results = []
    for positives_only in (False, True):
        torch.manual_seed(0)
        model = MODELS.build(tiny_albef_cfg(vocab, explain_positives_only=positives_only))
        model.eval()  # no dropout: the two layouts would draw different dropout masks
        torch.manual_seed(1)
        losses, state = model.albef_losses(images, samples(), explain=True)
        grad = torch.autograd.grad(losses['loss_amc'], model.fusion.layers[1].output.dense.weight)
        results.append((losses, state['cam'], grad[0]))
    (losses_a, cam_a, grad_a), (losses_b, cam_b, grad_b) = results
    for key in losses_a:
        torch.testing.assert_close(losses_a[key], losses_b[key], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(cam_a, cam_b, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grad_a, grad_b, atol=1e-5, rtol=1e-4)


def test_mlm_in_the_itm_pass_equals_a_separate_mlm_pass(vocab):
    """The step fuses MLM's corrupted captions in ITM's pass (one more row per image) after
    one text-encoder pass over captions and corrupted captions; the MLM loss and its gradient
    on a fusion weight equal those of the separate passes (``_mlm``) with the same corruption
    (no dropout; mask_tokens is the first random draw of both)."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_albef_cfg(vocab, hard_negatives='hardest')).eval()
    images = torch.randn(8, 3, 32, 32)
    weight = model.fusion.layers[1].output.dense.weight
    torch.manual_seed(1)
    losses = model.loss(images, samples(8))
    (merged,) = torch.autograd.grad(losses['loss_mlm'], weight)
    torch.manual_seed(1)
    text = model.tokenize([s.metainfo['caption'] for s in samples(8)], images.device)
    separate = model._mlm(text, model.image_encoder(images))
    (alone,) = torch.autograd.grad(separate, weight)
    torch.testing.assert_close(losses['loss_mlm'], separate, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(merged, alone, atol=1e-6, rtol=1e-5)
    assert losses['loss_mlm'] > 0 and merged.abs().sum() > 0  # some token was masked


def test_distillation_weight_ramps_over_the_first_iterations(vocab):
    from mmengine.logging import MessageHub

    model = MODELS.build(tiny_albef_cfg(vocab, distill_alpha=0.4, distill_alpha_ramp=100))
    hub = MessageHub.get_instance('test_alpha_ramp')
    hub.update_info('iter', 25)
    # 0.4 * 25 / 100 = 0.1; from iteration 100 on the full 0.4
    assert model.current_distill_alpha() == pytest.approx(0.1)
    hub.update_info('iter', 250)
    assert model.current_distill_alpha() == pytest.approx(0.4)
    epoch = MODELS.build(tiny_albef_cfg(vocab, distill_alpha=0.4, distill_alpha_ramp='epoch'))
    hub.update_info('iter', 10)
    hub.update_info('max_iters', 200)
    hub.update_info('max_epochs', 5)  # 40 iterations per epoch: 0.4 * 10 / 40 = 0.1
    assert epoch.current_distill_alpha() == pytest.approx(0.1)
    assert MODELS.build(tiny_albef_cfg(vocab)).current_distill_alpha() == 0.4  # no ramp
    with pytest.raises(ValueError, match='distill_alpha_ramp'):
        MODELS.build(tiny_albef_cfg(vocab, distill_alpha_ramp='warmup'))


def test_prediction_truncates_phrases_to_the_test_length(vocab):
    torch.manual_seed(0)
    model = MODELS.build(tiny_albef_cfg(vocab, max_text_length_test=4)).eval()
    lengths = []
    model.itm_logits = (
        lambda f: lambda t, m, i, **kw: (lengths.append(t.shape[1]), f(t, m, i, **kw))[1]
    )(model.itm_logits)
    model.explain_phrases(torch.randn(1, 3, 32, 32), ['the blue square on the left'])
    assert lengths == [4]  # [CLS] + 2 words + [SEP]; 30 tokens during training
    assert (
        model.tokenize(['the blue square on the left'], torch.device('cpu'))['input_ids'].shape[1]
        == 8
    )


def test_attention_probability_dropout_is_an_option(vocab):
    from mmgrounding.models.fusion import ALBEFFusionEncoder

    bert = dict(
        hidden_size=16,
        num_attention_heads=2,
        intermediate_size=32,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.5,
    )
    text, mask, image = (
        torch.randn(2, 5, 16),
        torch.ones(2, 5, dtype=torch.bool),
        torch.randn(2, 7, 16),
    )
    for attention_dropout in (False, True):
        torch.manual_seed(0)
        fusion = ALBEFFusionEncoder(
            config=bert, num_layers=1, image_dim=16, attention_dropout=attention_dropout
        ).train()
        first, second = fusion(text, mask, image), fusion(text, mask, image)
        # without it the probabilities are never dropped (only hidden dropout, 0 here)
        assert torch.equal(first, second) != attention_dropout
        fusion.eval()
        torch.testing.assert_close(fusion(text, mask, image), fusion(text, mask, image))
    # the explained probabilities are kept before the dropout: they sum to 1
    attention = fusion.layers[0].crossattention.self
    fusion.train()
    attention.keep_probs = True
    fusion(text, mask, image)
    torch.testing.assert_close(attention.probs.sum(-1), torch.ones(2, 2, 5))


def test_itm_itc_term_adds_the_text_itc_cosine_to_the_match_logit(vocab):
    torch.manual_seed(0)
    plain = MODELS.build(tiny_albef_cfg(vocab, text_pool='mean'))
    torch.manual_seed(0)
    model = MODELS.build(tiny_albef_cfg(vocab, text_pool='mean', itm_itc_term=True))
    # the option's modules are built last: every other weight is the default model's
    extra = {'itm_fused_proj.weight', 'itm_fused_proj.bias', 'itm_temp'}
    params = dict(model.named_parameters())
    assert set(params) - set(dict(plain.named_parameters())) == extra
    assert plain.itm_fused_proj is None and not hasattr(plain, 'itm_temp')
    for name, param in plain.named_parameters():
        assert torch.equal(param, params[name]), name
    model.eval()
    text = model.tokenize(['a red circle', 'blue square'], torch.device('cpu'))
    text_embeds = model.text_encoder(text['input_ids'], text['attention_mask'])
    image_embeds = model.image_encoder(torch.randn(2, 3, 32, 32))
    logits = model.itm_logits(text_embeds, text['attention_mask'], image_embeds)
    # by hand: head(pool(fused)) + [0, cos(text_proj(pool(text)), fused proj(pool(fused))) / 0.07]
    fused = model.fuse(text_embeds, text['attention_mask'], image_embeds)
    mask = text['attention_mask'][..., None].float()
    pooled_fused = (fused * mask).sum(1) / mask.sum(1)
    pooled_text = (text_embeds * mask).sum(1) / mask.sum(1)
    cos = torch.nn.functional.cosine_similarity(
        model.text_proj(pooled_text), model.itm_fused_proj(pooled_fused), dim=-1
    )
    head = model.itm_head(pooled_fused)
    torch.testing.assert_close(logits[:, 0], head[:, 0])
    torch.testing.assert_close(logits[:, 1], head[:, 1] + cos / 0.07)
    # the text side is ITC's feature, detached: ITM trains the fused projection, not text_proj
    logits[:, 1].sum().backward()
    assert model.itm_fused_proj.weight.grad.abs().sum() > 0 and model.itm_temp.grad != 0
    assert model.text_proj.weight.grad is None
    # a full step trains the new parameters too
    model.zero_grad()
    model.train()
    losses = model.loss(torch.randn(4, 3, 32, 32), samples())
    sum(losses.values()).backward()
    assert all(params[name].grad is not None for name in extra)


def test_fast_teacher_equals_the_exact_teacher_up_to_rounding(vocab):
    """``fast_teacher``: the class token's last block alone and a lerp update give the
    exact path's features and weights within float rounding; the default keeps the
    multiply-then-add update bitwise (the recorded SynthGround runs' arithmetic)."""
    torch.manual_seed(0)
    exact = MODELS.build(tiny_albef_cfg(vocab, teacher_decay=0.9))
    fast = MODELS.build(tiny_albef_cfg(vocab, teacher_decay=0.9, fast_teacher=True))
    fast.load_state_dict(exact.state_dict())
    with torch.no_grad():  # a student away from its teacher, so the update moves the weights
        for model in (exact, fast):
            torch.manual_seed(1)
            for p in model.image_encoder.parameters():
                p.add_(torch.randn_like(p) * 0.1)
    teacher = [p.clone() for p in exact.image_encoder_m.parameters()]
    student = [p.detach().clone() for p in exact.image_encoder.parameters()]
    exact._update_teacher()
    fast._update_teacher()
    for t, s, e, f in zip(
        teacher, student, exact.image_encoder_m.parameters(), fast.image_encoder_m.parameters()
    ):
        # the default: a multiply, then an add (foreach kernels, as recorded runs trained)
        assert torch.equal(e, torch.add(t * 0.9, s, alpha=1 - 0.9))
        torch.testing.assert_close(f, e, rtol=1e-6, atol=1e-7)
    assert not torch.equal(teacher[0], next(exact.image_encoder_m.parameters()))  # it moved
    images = torch.randn(3, 3, 32, 32)
    feat_exact, feat_fast = exact.teacher_image_feat(images), fast.teacher_image_feat(images)
    assert feat_exact.shape == (3, exact.vision_proj_m.out_features)
    torch.testing.assert_close(feat_fast, feat_exact, rtol=1e-5, atol=1e-6)
