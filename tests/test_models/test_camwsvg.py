"""CAMWSVGGrounder: a training step, the ablation rows, predictions, and fitting a batch."""

import pytest
import torch
from mmdet.structures.bbox import bbox_overlaps

from mmgrounding.registry import MODELS

from .camwsvg_tiny import tiny_batch, tiny_camwsvg_cfg, write_vocab


@pytest.fixture
def vocab(tmp_path):
    return write_vocab(tmp_path / 'vocab.txt')


def test_training_step_reaches_the_encoders(vocab):
    torch.manual_seed(0)
    model = MODELS.build(tiny_camwsvg_cfg(vocab))
    images, samples = tiny_batch()
    losses = model.loss(images, samples)
    assert set(losses) == {'loss_rec', 'loss_reg', 'loss_am'}
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    sum(losses.values()).backward()

    def grad(m):
        return sum(float(p.grad.abs().sum()) for p in m.parameters() if p.grad is not None)

    assert grad(model.visual_encoder.backbone) > 0  # through the [REG] box
    assert grad(model.text_encoder) > 0
    assert grad(model.cam_encoder.map_head) > 0  # attention mining trains the refined map
    assert all(p.grad is None for p in model.classifier.parameters())  # frozen
    # "the scene" has no class: counted, no CAM tokens
    assert model.noun_mapper.unmatched == {'scene': 1}


def test_attention_mining_moves_only_the_cam_map(vocab):
    torch.manual_seed(0)
    model = MODELS.build(tiny_camwsvg_cfg(vocab))
    images, samples = tiny_batch()
    model.loss(images, samples)['loss_am'].backward()
    assert model.cam_encoder.map_head.weight.grad.abs().sum() > 0
    assert model.box_head.mlp[0].weight.grad is None


def test_ablation_rows_and_predictions(vocab):
    images, samples = tiny_batch()
    plain = MODELS.build(tiny_camwsvg_cfg(vocab, cam=False)).eval()
    assert set(plain.loss(images, samples)) == {'loss_rec', 'loss_reg'}
    no_am = MODELS.build(tiny_camwsvg_cfg(vocab, am=False))
    assert set(no_am.loss(images, samples)) == {'loss_rec', 'loss_reg'}
    model = MODELS.build(tiny_camwsvg_cfg(vocab)).eval()
    out = model.predict(images, samples)
    for sample in out:
        num = len(sample.metainfo['phrases'])
        h, w = sample.metainfo['ori_shape']
        assert sample.pred_boxes.shape == (num, 1, 4) and sample.pred_scores.shape == (num, 1)
        boxes = sample.pred_boxes[:, 0]
        assert bool(
            (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= w).all() and (boxes[:, 3] <= h).all()
        )
        assert sample.pred_heatmaps.shape[0] == num == sample.pred_cam_raw.shape[0]
    # "the scene" (second phrase of image 0): no class, zero maps
    assert float(out[0].pred_cam_raw[1].abs().sum()) == 0.0
    assert float(out[0].pred_cam_raw[0].max()) == pytest.approx(1.0)
    assert not hasattr(plain.predict(*tiny_batch())[0], 'pred_cam_raw')
    with pytest.raises(ValueError, match='go together'):
        MODELS.build(tiny_camwsvg_cfg(vocab, cam_encoder=None))


def test_fits_the_self_taught_target(vocab):
    """On one batch the [REG] box must move to the attended proposal and L_rec must fall.

    The target moves while the attention learns (random proposal features here), so the
    bar is modest: mean IoU with the target from 0.00 at the start to above 0.3 after 60
    steps (0.39 measured; a model whose box head or fusion gets no gradient stays near 0).
    """
    torch.manual_seed(0)
    model = MODELS.build(
        tiny_camwsvg_cfg(vocab, regression_loss=dict(type='RegBoxLoss', loss_weight=1.0))
    )
    images, samples = tiny_batch()
    optim = torch.optim.Adam(model.parameters(), lr=5e-3)
    first = None
    for _ in range(60):
        losses = model.loss(images, samples)
        first = first or {k: float(v) for k, v in losses.items()}
        optim.zero_grad()
        sum(losses.values()).backward()
        optim.step()
    model.eval()
    out = model.predict(images, samples)
    pred = torch.cat([s.pred_boxes_fused for s in out])
    target = torch.cat([s.pred_boxes_target for s in out])
    ious = bbox_overlaps(pred, target, is_aligned=True)
    assert float(ious.mean()) > 0.3, ious
    assert float(losses['loss_rec']) < 0.5 * first['loss_rec']


def test_test_box_target_answers_with_the_attended_proposal(vocab):
    images, samples = tiny_batch()
    torch.manual_seed(0)
    model = MODELS.build(tiny_camwsvg_cfg(vocab, test_box='target')).eval()
    out = model.predict(images, samples)
    for sample in out:
        torch.testing.assert_close(sample.pred_boxes[:, 0], sample.pred_boxes_target)
        # the target is one of the image's proposals
        assert all(
            bool((sample.proposals.bboxes == box).all(dim=1).any())
            for box in sample.pred_boxes_target
        )
    with pytest.raises(ValueError, match='test_box'):
        MODELS.build(tiny_camwsvg_cfg(vocab, test_box='centre'))


def test_select_then_refine_starts_at_the_target_and_learns_to_move(vocab):
    """``box_frame='proposal'``: the answer is the target moved by the [REG] deltas (zero at
    the start, so the answer is the target exactly); a training step reaches the deltas."""
    images, samples = tiny_batch()
    torch.manual_seed(0)
    cfg = tiny_camwsvg_cfg(vocab, box_frame='proposal', anchor_iou=0.0)
    model = MODELS.build(cfg).eval()
    for sample in model.predict(images, samples):
        h, w = sample.metainfo['ori_shape']
        target = sample.pred_boxes_target.clone()
        target[:, 0::2] = target[:, 0::2].clamp(0, w)
        target[:, 1::2] = target[:, 1::2].clamp(0, h)
        torch.testing.assert_close(sample.pred_boxes[:, 0], target)
    model.train()
    model.regression_switch = 0.0
    assert float(model.loss(images, samples)['loss_reg']) == 0.0  # the switch off ...
    model.regression_switch = 1.0
    losses = model.loss(images, samples)  # anchors drawn among all proposals (IoU >= 0)
    assert float(losses['loss_reg']) > 0  # ... on: the drawn anchors are not all the target
    losses['loss_reg'].backward()
    assert model.box_head.mlp[-1].weight.grad.abs().sum() > 0
    # the last delta layer starts at zero, so only it has a gradient at the first step; once it
    # has moved, the anchor's box embedding learns through it too
    with torch.no_grad():
        model.box_head.mlp[-1].weight.add_(model.box_head.mlp[-1].weight.grad, alpha=-1.0)
    model.zero_grad()
    model.loss(images, samples)['loss_reg'].backward()
    assert model.anchor_embed['box'][0].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='box_frame'):
        MODELS.build(tiny_camwsvg_cfg(vocab, box_frame='absolute'))


def test_ranking_loss_over_phrases_and_images(vocab):
    """``loss_rank``: every phrase attends over every image's proposals; its gradient reaches
    the phrase-proposal attention's query and the text encoder, and it is zero-free only
    when the batch has another image."""
    images, samples = tiny_batch()
    torch.manual_seed(0)
    model = MODELS.build(
        tiny_camwsvg_cfg(vocab, cam=False, ranking_loss=dict(type='ImageCaptionRankingLoss'))
    )
    losses = model.loss(images, samples)
    assert set(losses) == {'loss_rec', 'loss_reg', 'loss_rank'}
    assert float(losses['loss_rank']) > 0
    losses['loss_rank'].backward()
    assert model.proposal_attention.query.weight.grad.abs().sum() > 0
    assert (
        sum(
            float(p.grad.abs().sum()) for p in model.text_encoder.parameters() if p.grad is not None
        )
        > 0
    )
    # one image (its two captions' phrases are positives): nothing to rank against
    one = model.loss(images[:1], samples[:1])['loss_rank']
    assert float(one) == 0.0


def test_class_maps_top_explains_the_best_scored_class_of_a_hypernym(vocab):
    """class_maps='top': a noun naming several classes ("the shape": circle and square in
    WordNet) is explained by the one its image scores highest, which is the map of a phrase
    naming that class alone; 'sum' explains the sum of both logits."""
    from .camwsvg_tiny import SHAPES

    torch.manual_seed(0)
    images, _ = tiny_batch(1)
    owner = torch.zeros(1, dtype=torch.long)
    top = MODELS.build(tiny_camwsvg_cfg(vocab, class_match='wordnet', class_maps='top')).eval()
    summed = MODELS.build(tiny_camwsvg_cfg(vocab, class_match='wordnet')).eval()
    summed.load_state_dict(top.state_dict())
    single = MODELS.build(tiny_camwsvg_cfg(vocab)).eval()  # class_match='name'
    single.load_state_dict(top.state_dict())
    with torch.no_grad():
        logits = top.classifier(images)[0]
    best = int(logits[:2].argmax())  # circle or square
    cams = top._cams(images, owner, ['the shape'])
    assert cams['class_mask'][0].nonzero()[:, 0].tolist() == [best]
    named = single._cams(images, owner, [f'a {SHAPES[best]}'])
    torch.testing.assert_close(cams['raw'], named['raw'])
    both = summed._cams(images, owner, ['the shape'])
    assert both['class_mask'][0].nonzero()[:, 0].tolist() == [0, 1]
    assert not torch.allclose(both['raw'], cams['raw'])
    with pytest.raises(ValueError, match='class_maps'):
        MODELS.build(tiny_camwsvg_cfg(vocab, class_maps='max'))


def test_label_prior_moves_the_target_to_the_named_class(vocab):
    """With ReIR's WordNet label prior (weight large against log α and the CAM term) the
    self-taught target of "a red circle" is a proposal the detector labels circle."""
    from mmengine.structures import InstanceData

    torch.manual_seed(0)
    images, samples = tiny_batch(1)
    labels = torch.tensor([1, 2, 0, 1, 2])  # square, star, circle, square, star
    samples[0].proposals = InstanceData(**samples[0].proposals.to_dict(), labels=labels)
    cfg = tiny_camwsvg_cfg(vocab, label_prior=dict(type='WordNetLabelPrior'))
    prior = MODELS.build(dict(cfg, label_prior_weight=1000.0)).eval()
    plain = MODELS.build(tiny_camwsvg_cfg(vocab)).eval()
    plain.load_state_dict(prior.state_dict())
    with torch.no_grad():
        target = prior._run(images, samples)['target_xyxy'][0]
        before = plain._run(images, samples)['target_xyxy'][0]
    boxes = samples[0].proposals.bboxes
    assert torch.equal(target, boxes[2])  # the only circle
    assert not torch.equal(before, boxes[2])  # not what the attention alone picks


def test_a_batch_without_any_class_noun_trains_and_predicts(vocab):
    """No query of the batch names a class (every noun falls back to no CAM tokens): the
    positional CAM encoder gets zero maps, the step still runs and L_am is a finite zero; the
    nouns are counted."""
    torch.manual_seed(0)
    cfg = tiny_camwsvg_cfg(vocab, cam_target_weight=2.0)
    cfg['cam_encoder'] = dict(cfg['cam_encoder'], positional=True)
    model = MODELS.build(cfg)
    images, samples = tiny_batch()
    for sample in samples:
        sample.set_metainfo(dict(phrases=['the scene'] * len(sample.metainfo['phrases'])))
    losses = model.loss(images, samples)
    assert float(losses['loss_am']) == 0.0 and all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert model.noun_mapper.unmatched == {'scene': 5}
    out = model.eval().predict(images, samples)
    assert [len(s.pred_boxes) for s in out] == [2, 3]
