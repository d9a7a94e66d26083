"""CAM-WSVG components with hand-derived values: the CNN Grad-CAM, the soft mask and L_am,
the [REG] token layout, the box loss, the visual and CAM encoders."""

import math

import pytest
import torch
from torch import nn

from mmgrounding.models.losses import attention_mining_loss, erase_attended, reg_box_loss, soft_mask
from mmgrounding.registry import MODELS


class TinyCNN(nn.Module):
    """conv -> ReLU -> ('feat': conv -> ReLU) -> global average pool -> linear."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.stem = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        self.feat = nn.Sequential(nn.Conv2d(4, 5, 3, padding=1), nn.ReLU())
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        return self.fc(self.feat(self.stem(x)).mean(dim=(2, 3)))


def test_conv_grad_cam_equals_brute_force():
    model = TinyCNN()
    images = torch.randn(3, 3, 6, 6)
    classes = torch.tensor([0, 2, 1])
    explainer = MODELS.build(
        dict(type='ConvGradCAMExplainer', target_layer='feat', normalize='none')
    )
    with explainer.watch(model) as captured:
        logits = model(images)
        cams = explainer.explain(logits[torch.arange(3), classes], captured['activations'])
    assert not model.feat._forward_hooks  # the hook is gone
    for b in range(3):  # one sample at a time, the gradient by autograd on a fresh graph
        acts = model.feat(model.stem(images[b : b + 1])).detach().requires_grad_()
        score = model.fc(acts.mean(dim=(2, 3)))[0, classes[b]]
        (grad,) = torch.autograd.grad(score, acts)
        expected = torch.relu((grad.mean(dim=(2, 3))[..., None, None] * acts).sum(dim=1))[0]
        torch.testing.assert_close(cams[b], expected)
        # the head is average pool + linear: Grad-CAM = ReLU(Σ_k W_ck A_k) / (h w), i.e. CAM
        cam = torch.relu(torch.einsum('k,khw->hw', model.fc.weight[classes[b]], acts[0])) / 36
        torch.testing.assert_close(cams[b], cam.detach())


def test_conv_grad_cam_frozen_model_and_normalisation():
    model = TinyCNN().requires_grad_(False)
    images = torch.randn(2, 3, 6, 6)
    explainer = MODELS.build(dict(type='ConvGradCAMExplainer', target_layer='feat'))
    with explainer.watch(model) as captured:
        cams = explainer.explain(model(images)[:, 0], captured['activations'])
    flat = cams.flatten(1)
    assert torch.allclose(flat.max(dim=1).values, torch.ones(2)) or bool((flat == 0).all())
    assert cams.min() >= 0
    with pytest.raises(ValueError):
        MODELS.build(dict(type='ConvGradCAMExplainer', target_layer='feat', normalize='sum'))


def test_conv_grad_cam_differentiable():
    model = TinyCNN()
    explainer = MODELS.build(
        dict(type='ConvGradCAMExplainer', target_layer='feat', normalize='none')
    )
    with explainer.watch(model) as captured:
        cams = explainer.explain(
            model(torch.randn(2, 3, 6, 6))[:, 1], captured['activations'], create_graph=True
        )
    cams.sum().backward()
    assert model.stem[0].weight.grad.abs().sum() > 0  # the map trains the layers before


def test_soft_mask_and_erase_hand_values():
    maps = torch.tensor([[[0.5, 1.0], [0.0, 0.7]]])
    # T = sigmoid(10 (A - 0.5)): sigmoid(0), sigmoid(5), sigmoid(-5), sigmoid(2)
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    expected = torch.tensor([[[0.5, sig(5)], [sig(-5), sig(2)]]])
    torch.testing.assert_close(soft_mask(maps), expected)
    images = torch.full((1, 3, 2, 2), 2.0)
    # same size: I* = I - T I = 2 (1 - T) in every channel
    torch.testing.assert_close(
        erase_attended(images, maps), 2 * (1 - expected)[:, None].expand(-1, 3, -1, -1)
    )


def test_attention_mining_loss_hand_values():
    logits = torch.tensor([[0.0, math.log(3.0), 5.0], [2.0, 0.0, 0.0]])
    # query 1: class 1 only, sigmoid(ln 3) = 0.75; query 2 has no class and does not count
    one = torch.tensor([[False, True, False], [False, False, False]])
    assert attention_mining_loss(logits, one).item() == pytest.approx(0.75)
    # query 1: mean(0.5, 0.75) = 0.625; query 2: sigmoid(2) = 0.880797 -> mean 0.752898
    two = torch.tensor([[True, True, False], [True, False, False]])
    assert attention_mining_loss(logits, two).item() == pytest.approx(0.752898, abs=1e-6)
    none = attention_mining_loss(logits.requires_grad_(), torch.zeros(2, 3, dtype=torch.bool))
    assert none.item() == 0.0 and none.requires_grad
    loss = MODELS.build(dict(type='AttentionMiningLoss', area_weight=0.5, loss_weight=2.0))
    maps = torch.tensor([[[0.5, 0.5]], [[1.0, 1.0]]])
    # 2 * (0.75 + 0.5 * mean T over the maps of the queries with a class (only query 1: 0.5))
    assert loss(logits, one, maps=maps).item() == pytest.approx(2 * (0.75 + 0.5 * 0.5))


def test_attention_mining_widens_the_map():
    """The class evidence is all over the image: L_am falls when the map grows anywhere."""
    maps = torch.full((1, 4, 4), 0.3, requires_grad=True)
    images = torch.ones(1, 3, 4, 4)
    frozen = nn.Linear(3, 1).requires_grad_(False)
    nn.init.constant_(frozen.weight, 1.0)
    logits = frozen(erase_attended(images, maps).mean(dim=(2, 3)))
    attention_mining_loss(logits, torch.ones(1, 1, dtype=torch.bool)).backward()
    assert bool((maps.grad < 0).all())


def test_reg_token_layout_per_level():
    fusion = MODELS.build(dict(type='RegTokenFusion', dim=8, num_heads=2, ffn_dim=16))
    assert fusion.token_layout(1, [4, 2, 1], 3, 2) == {
        'reg': (0, 1),
        'visual1': (1, 3),
        'text': (3, 6),
        'cam': (6, 8),
    }
    single = MODELS.build(dict(type='RegTokenFusion', dim=8, num_layers=1, num_heads=2))
    assert single.token_layout(0, [4, 2, 1], 3, 2) == {
        'reg': (0, 1),
        'visual0': (1, 5),
        'visual1': (5, 7),
        'visual2': (7, 8),
        'text': (8, 11),
        'cam': (11, 13),
    }
    tokens, padding = fusion._sequence(
        2,
        [torch.zeros(2, 4, 8), torch.zeros(2, 2, 8), torch.zeros(2, 1, 8)],
        torch.zeros(2, 3, 8),
        torch.tensor([[True, True, False]] * 2),
        torch.zeros(2, 2, 8),
        torch.zeros(2, 2, dtype=torch.bool),
    )
    assert tokens.shape == (2, 1 + 1 + 3 + 2, 8)
    assert padding[0].tolist() == [False, False, False, False, True, True, True]


def test_reg_token_fusion_levels_and_merge():
    torch.manual_seed(0)
    fusion = MODELS.build(
        dict(type='RegTokenFusion', dim=8, num_heads=2, ffn_dim=16, dropout=0.0)
    ).eval()
    visual = [torch.randn(2, n, 8) for n in (4, 2, 1)]
    text, text_mask = torch.randn(2, 3, 8), torch.ones(2, 3, dtype=torch.bool)
    cam, cam_mask = torch.randn(2, 2, 8), torch.zeros(2, 2, dtype=torch.bool)
    out = fusion(visual, text, text_mask, cam, cam_mask)
    assert out.shape == (2, 24)
    moved = fusion([visual[0] + torch.randn(2, 4, 8), *visual[1:]], text, text_mask, cam, cam_mask)
    assert not torch.allclose(moved[:, :8], out[:, :8])  # layer 1 sees level F3
    torch.testing.assert_close(moved[:, 8:], out[:, 8:])  # layers 2, 3 do not
    # masked CAM tokens (a query without a class) change nothing
    torch.testing.assert_close(fusion(visual, text, text_mask, cam * 5, cam_mask), out)
    conv = MODELS.build(dict(type='RegTokenFusion', dim=8, num_heads=2, merge='conv'))
    assert conv(visual, text, text_mask, cam, cam_mask).shape == (2, 8) and conv.out_dim == 8
    with pytest.raises(ValueError):
        MODELS.build(dict(type='RegTokenFusion', dim=8, num_layers=2))


@pytest.mark.parametrize('depth', [1, 2])
@pytest.mark.parametrize('norm_first', [True, False])
def test_reg_token_fusion_equals_the_full_sequence_layers(depth, norm_first):
    """The [REG] output, its last layer computed at the [REG] position only, equals the
    transformer layers run over the whole sequence, forward and backward."""
    torch.manual_seed(0)
    fusion = MODELS.build(
        dict(type='RegTokenFusion', dim=8, num_heads=2, ffn_dim=16, dropout=0.0, depth=depth)
    )
    for encoder in fusion.layers:
        for layer in encoder.layers:
            layer.norm_first = norm_first
    visual = [torch.randn(3, n, 8, requires_grad=True) for n in (4, 2, 1)]
    text, text_mask = torch.randn(3, 3, 8), torch.tensor([[1, 1, 0], [1, 0, 0], [1, 1, 1]]).bool()
    cam, cam_mask = torch.randn(3, 2, 8), torch.tensor([[1, 1], [0, 0], [1, 0]]).bool()
    out = fusion(visual, text, text_mask, cam, cam_mask)
    reference = []
    for i, encoder in enumerate(fusion.layers):
        tokens, padding = fusion._sequence(i, visual, text, text_mask, cam, cam_mask)
        reference.append(encoder(tokens, src_key_padding_mask=padding)[:, 0])
    reference = torch.cat(reference, dim=1)
    torch.testing.assert_close(out, reference, rtol=1e-5, atol=1e-6)
    weights = torch.randn_like(out)
    grads = torch.autograd.grad((out * weights).sum(), visual)
    expected = torch.autograd.grad((reference * weights).sum(), visual)
    for got, want in zip(grads, expected):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
    with torch.no_grad():  # eval: torch's fused encoder path for the reference
        torch.testing.assert_close(
            fusion.eval()(visual, text, text_mask, cam, cam_mask), reference, rtol=1e-5, atol=1e-5
        )


def test_reg_box_loss_hand_values():
    target = torch.tensor([[0.5, 0.5, 0.4, 0.4]])
    pred = torch.tensor([[0.5, 0.5, 0.2, 0.2]], requires_grad=True)
    # smooth-L1 (β = 1): 0.5 · 0.2² on w and h -> 0.04 / 4 = 0.01; the box lies inside the
    # target: IoU = 0.04 / 0.16 = 0.25 = GIoU -> 0.75; total 0.76
    assert reg_box_loss(pred, target).item() == pytest.approx(0.76, abs=1e-5)
    assert reg_box_loss(target, target).item() == pytest.approx(0.0, abs=1e-6)
    wrapped = MODELS.build(dict(type='RegBoxLoss'))
    assert wrapped(pred, target).item() == pytest.approx(0.076, abs=1e-6)
    zero = reg_box_loss(pred, target, weights=torch.zeros(1))
    zero.backward()
    assert zero.item() == 0.0 and pred.grad is not None


def test_multi_level_visual_encoder_levels():
    backbone = dict(type='ResNet', depth=18, base_channels=4)
    encoder = MODELS.build(
        dict(
            type='MultiLevelVisualEncoder',
            backbone=backbone,
            in_channels=(8, 16, 32),
            dim=8,
            num_heads=2,
            num_groups=2,
        )
    )
    maps = encoder(torch.randn(2, 3, 64, 64))
    assert [tuple(m.shape) for m in maps] == [(2, 8, 8, 8), (2, 8, 4, 4), (2, 8, 2, 2)]
    f4 = MODELS.build(
        dict(
            type='MultiLevelVisualEncoder',
            backbone=backbone,
            levels=(5, 3),
            in_channels=(8, 16, 32),
            dim=8,
            num_heads=2,
            num_groups=2,
        )
    )
    assert [tuple(m.shape) for m in f4(torch.randn(1, 3, 64, 64))] == [(1, 8, 2, 2), (1, 8, 8, 8)]
    with pytest.raises(ValueError):
        MODELS.build(dict(type='MultiLevelVisualEncoder', backbone=backbone, levels=(2,)))


def test_cam_encoder_starts_from_the_raw_map():
    encoder = MODELS.build(dict(type='CAMEncoder', dim=8, feature_channels=3, num_groups=2))
    maps = torch.rand(2, 4, 4)
    tokens, refined = encoder(maps, torch.randn(2, 3, 4, 4))
    torch.testing.assert_close(refined, maps)  # zero-initialised map head
    assert tokens.shape == (2, 16, 8)
    with pytest.raises(ValueError):
        encoder(maps)  # features missing


def test_cam_classifier_loads_torchvision_and_own_files(tmp_path):
    cfg = dict(
        type='CAMClassifier',
        backbone=dict(type='ResNet', depth=18, base_channels=4, out_indices=(3,)),
        in_channels=32,
        num_classes=3,
        class_names=['circle', 'square', 'star'],
    )
    torch.manual_seed(0)
    source = MODELS.build(dict(cfg, frozen=False)).eval()
    own = {k: v for k, v in source.state_dict().items()}
    # torchvision's names: conv1 ... layer4 at the top level, the head as fc
    torchvision = {
        (k.replace('head.', 'fc.') if k.startswith('head.') else k[len('backbone.') :]): v
        for k, v in own.items()
    }
    torch.save(torchvision, tmp_path / 'tv.pth')
    torch.save(dict(state_dict=own), tmp_path / 'own.pth')
    images = torch.randn(2, 3, 32, 32)
    for name, fmt in (('tv.pth', 'torchvision'), ('own.pth', 'mmgrounding')):
        loaded = MODELS.build(dict(cfg, checkpoint=str(tmp_path / name), checkpoint_format=fmt))
        assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
        loaded.train()  # frozen: stays in eval mode
        torch.testing.assert_close(loaded(images), source(images))
    names = tmp_path / 'synsets.txt'
    names.write_text('n01440764 tench, Tinca tinca\nn01443537 goldfish\nn01484850 shark\n')
    assert MODELS.build(dict(cfg, class_names=None, class_names_file=str(names))).class_names == [
        'n01440764',
        'n01443537',
        'n01484850',
    ]


def test_cam_encoder_positions_are_the_sine_encoding():
    """With ``positional`` the tokens are those without, plus DETR's sine code of each cell."""
    from mmdet.models.layers import SinePositionalEncoding

    torch.manual_seed(0)
    encoder = MODELS.build(dict(type='CAMEncoder', dim=8, num_groups=2, positional=True))
    plain = MODELS.build(dict(type='CAMEncoder', dim=8, num_groups=2))
    plain.load_state_dict(encoder.state_dict())
    maps = torch.rand(2, 3, 4)
    with_pos, refined = encoder(maps)
    without, _ = plain(maps)
    code = SinePositionalEncoding(num_feats=4, normalize=True)(torch.zeros(1, 3, 4).bool())
    torch.testing.assert_close(
        with_pos - without, code.flatten(2).transpose(1, 2).expand(2, -1, -1)
    )
    torch.testing.assert_close(refined, maps)
    # two inner cells of a constant 16x16 map (beyond the reach of the zero padding of the
    # five 3x3 convolutions) get different tokens only with the positions
    same, _ = plain(torch.ones(1, 16, 16))
    moved, _ = encoder(torch.ones(1, 16, 16))
    inner = (8 * 16 + 7, 8 * 16 + 8)
    assert torch.allclose(same[0, inner[0]], same[0, inner[1]])
    assert not torch.allclose(moved[0, inner[0]], moved[0, inner[1]])


def test_cam_box_agreement_hand_values():
    """Left cell column 1 on a 2x2 map, compared on a 4x4 grid.

    Upsampled columns 1, .75, .25, 0 -> T = sigmoid(10 (A - .5)) = .9933, .9241, .0759, .0067
    per column (4 rows). Left-half box (columns 0-1, 8 cells): inter = 4 (.9933 + .9241) =
    7.6696, union = 8 + 8 - 7.6696 (Σ T = 4 · 2.0 = 8) -> 0.9207; right half: inter =
    4 (.0759 + .0067) = 0.3304, union = 15.6696 -> 0.0211.
    """
    from mmgrounding.models.grounders.cam_agreement import cam_box_agreement

    maps = torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])
    boxes = torch.tensor([[[0.0, 0.0, 0.5, 1.0], [0.5, 0.0, 1.0, 1.0]]])
    torch.testing.assert_close(
        cam_box_agreement(maps, boxes, size=4), torch.tensor([[0.9207, 0.0211]]), atol=1e-4, rtol=0
    )


def test_reg_token_fusion_text_reg_and_candidate_tokens():
    torch.manual_seed(0)
    fusion = MODELS.build(
        dict(
            type='RegTokenFusion',
            dim=8,
            num_levels=1,
            num_layers=1,
            num_heads=2,
            ffn_dim=16,
            dropout=0.0,
            text_reg=True,
        )
    ).eval()
    visual = [torch.randn(1, 4, 8).expand(2, -1, -1)]
    text = torch.randn(1, 3, 8).expand(2, -1, -1)
    mask = torch.ones(2, 3, dtype=torch.bool)
    cam, cam_mask = torch.zeros(2, 0, 8), torch.zeros(2, 0, dtype=torch.bool)
    pooled = torch.randn(2, 8)
    out = fusion(visual, text, mask, cam, cam_mask, text_pooled=pooled)
    # same image, same tokens: only the pooled query tells the two [REG] outputs apart
    assert not torch.allclose(out[0], out[1])
    with pytest.raises(ValueError, match='text_pooled'):
        fusion(visual, text, mask, cam, cam_mask)
    proposals = torch.randn(2, 5, 8)
    valid = torch.tensor([[True] * 5, [True, True, False, False, False]])
    moved = fusion(
        visual,
        text,
        mask,
        cam,
        cam_mask,
        text_pooled=pooled,
        proposals=proposals,
        proposal_mask=valid,
    )
    assert moved.shape == (2, 8) and not torch.allclose(moved, out)
    # a masked candidate changes nothing
    changed = proposals.clone()
    changed[1, 3] += 10
    again = fusion(
        visual,
        text,
        mask,
        cam,
        cam_mask,
        text_pooled=pooled,
        proposals=changed,
        proposal_mask=valid,
    )
    torch.testing.assert_close(again[1], moved[1])
    assert fusion.token_layout(0, [4], 3, 0, 5) == {
        'reg': (0, 1),
        'visual0': (1, 5),
        'text': (5, 8),
        'cam': (8, 8),
        'proposal': (8, 13),
    }


def test_cam_classifier_max_pool_and_no_stem_pool():
    cfg = dict(
        type='CAMClassifier',
        backbone=dict(type='ResNet', depth=18, base_channels=4, out_indices=(3,)),
        in_channels=32,
        num_classes=3,
        frozen=False,
    )
    torch.manual_seed(0)
    model = MODELS.build(dict(cfg, pool='max', stem_pool=False)).eval()
    images = torch.randn(2, 3, 64, 64)
    feature = model.backbone(images)[-1]
    assert feature.shape[-2:] == (4, 4)  # stride 16 without the stem's max pooling (32: 2x2)
    torch.testing.assert_close(model(images), model.head(feature.amax(dim=(2, 3))))
    with pytest.raises(ValueError, match='pool'):
        MODELS.build(dict(cfg, pool='sum'))


# SynthGround v2-like classes and their WordNet senses (taxonomy.py): a bell is chime.n.01,
# which is not the most frequent sense of "bell" (bell.n.01, a device)
V2_CLASSES = ['dog', 'poodle', 'cat', 'bell', 'pair of scissors', 'top hat', 'hat']
V2_SYNSETS = [
    'dog.n.01',
    'poodle.n.01',
    'cat.n.01',
    'chime.n.01',
    'scissors.n.01',
    'dress_hat.n.01',
    'hat.n.01',
]


@pytest.mark.parametrize(
    'phrase, wordnet, name',
    [
        ('the animal', [0, 1, 2], []),  # a hypernym: every class under animal.n.01
        ('the dog', [0, 1], [0]),  # "the dog" names the poodles too
        ('a terrier', [0], []),  # a hyponym of no class: CKD's nearest class above
        ('two poodles', [1], [1]),
        ('the instrument', [3], []),  # chime.n.01 is a musical instrument, bell.n.01 not
        ('two pairs of scissors', [4], []),  # the "<head> of <noun>" collocation
        ('an article of clothing', [5, 6], []),
        ('a small top hat', [5], [6]),  # the class name ends the phrase: not every hat
        ('the hat', [5, 6], [6]),
        ('the red one', [], []),  # no noun
    ],
)
def test_noun_class_link_through_wordnet(phrase, wordnet, name):
    from mmgrounding.text.noun_classes import NounClassMapper

    mapper = NounClassMapper(V2_CLASSES, match='wordnet', class_synsets=V2_SYNSETS)
    assert mapper.classes_of_phrase(phrase) == wordnet
    assert NounClassMapper(V2_CLASSES, match='name').classes_of_phrase(phrase) == name


def test_noun_class_link_needs_the_classes_senses():
    from mmgrounding.text.noun_classes import NounClassMapper

    # without class_synsets the bell is bell.n.01 (a device), not a musical instrument
    plain = NounClassMapper(V2_CLASSES, match='wordnet')
    assert plain.classes_of_phrase('the instrument') == []
    assert plain.unmatched == {'instrument': 1}
    with pytest.raises(ValueError, match='one synset per class'):
        NounClassMapper(V2_CLASSES, match='wordnet', class_synsets=V2_SYNSETS[:2])
    with pytest.raises(ValueError, match='class_synsets'):
        NounClassMapper(V2_CLASSES, match='name', class_synsets=V2_SYNSETS)


def test_noun_mapper_reads_synthground_meta(tmp_path):
    import json

    from mmgrounding.models.grounders.camwsvg import CAMWSVGGrounder

    meta = tmp_path / 'meta.json'
    pictograms = [dict(name=n, synset=s) for n, s in zip(V2_CLASSES, V2_SYNSETS)]
    meta.write_text(json.dumps(dict(pictograms=pictograms[::-1])))  # order does not matter
    mapper = CAMWSVGGrounder.build_noun_mapper(V2_CLASSES, match='wordnet', class_synsets=str(meta))
    assert mapper.classes_of_phrase('the instrument') == [3]
    with pytest.raises(ValueError, match='kimono'):
        CAMWSVGGrounder.build_noun_mapper(
            V2_CLASSES + ['kimono'], match='wordnet', class_synsets=str(meta)
        )
