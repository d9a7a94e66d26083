"""ReIR's components: the graph on a 3-node graph, label priors, encoder, heads, extractor."""

import math

import pytest
import torch

from mmgrounding.models.fusion import graph_update
from mmgrounding.models.heads import box_geometry
from mmgrounding.registry import MODELS


def test_graph_update_on_three_nodes_by_hand():
    z = torch.tensor([[1.0, 0], [0, 1], [1, 1], [2, 2]])  # node 3 has no neighbour
    m = torch.tensor([[1.0, 0], [0, 2], [1, 1], [5, 5]])
    edges = torch.tensor([[0, 1], [1, 2], [1, 1]])  # a self-loop is ignored
    out = graph_update(z, edges, m)
    # nodes 0 and 2 have the single neighbour 1: ω = 1, z' = z + m_1
    assert torch.allclose(out[0], torch.tensor([1.0, 2.0]))
    assert torch.allclose(out[2], torch.tensor([1.0, 3.0]))
    # node 1: logits m1·m0 / √2 = 0 and m1·m2 / √2 = √2; ω = softmax(0, √2)
    w2 = math.exp(math.sqrt(2)) / (1 + math.exp(math.sqrt(2)))  # 0.80443
    assert torch.allclose(out[1], torch.tensor([1.0, 1 + w2]), atol=1e-5)
    assert torch.equal(out[3], z[3])
    uniform = graph_update(z, edges, m, edge_weights='uniform')
    assert torch.allclose(uniform[1], torch.tensor([1.0, 1.5]))  # [0,1] + ([1,0] + [1,1]) / 2
    assert torch.equal(graph_update(z, torch.zeros(0, 2, dtype=torch.long), m), z)


def test_visual_object_graph_module_uses_its_message_layer():
    graph = MODELS.build(dict(type='VisualObjectGraph', dim=2))
    with torch.no_grad():
        graph.message[0].weight.copy_(torch.eye(2))
        graph.message[0].bias.zero_()
    z = torch.tensor([[1.0, 0], [0, 1], [1, 1]])
    out = graph(z, torch.tensor([[0, 1], [1, 2]]))
    # F_M = ReLU(identity): m = z; node 0: [1,0] + [0,1]
    assert torch.allclose(out[0], torch.tensor([1.0, 1.0]))
    with pytest.raises(ValueError, match='edge_weights'):
        MODELS.build(dict(type='VisualObjectGraph', dim=2, edge_weights='mean'))


def test_wordnet_label_prior():
    prior = MODELS.build(dict(type='WordNetLabelPrior', class_names=['circle', 'square']))
    table = prior.table(['a red circle', 'two squares', 'the left one'])
    assert table[0, 0] == 1.0 and 0 < table[0, 1] < 1
    assert table[1, 1] == 1.0
    assert table[2].tolist() == [1.0, 1.0]  # "one": no synset, no prior
    labels = torch.tensor([[1, 0, 0], [0, 1, 1]])
    assert torch.equal(
        prior(['a red circle', 'two squares'], labels),
        torch.stack([table[0][labels[0]], table[1][labels[1]]]),
    )


def test_glove_label_prior(tmp_path):
    glove = tmp_path / 'glove.txt'
    glove.write_text('red 1 0 0\ncircle 0 1 0\nsquare 0 0 1\nbig -1 0 0\n')
    vocab = tmp_path / 'vocab.txt'
    vocab.write_text('[PAD]\n[UNK]\nred\ncircle\nbig\n')
    prior = MODELS.build(
        dict(
            type='GloVeLabelPrior',
            glove_file=str(glove),
            dim=3,
            class_names=['circle', 'square'],
            vocab_file=str(vocab),
        )
    )
    table = prior.table(['red circle', 'purple', 'big square'])
    # mean over words of max(0, cos): circle (0 + 1) / 2; square (0 + 0) / 2
    assert table[0].tolist() == pytest.approx([0.5, 0.0])
    assert table[1].tolist() == [1.0, 1.0]  # no word has a vector
    assert table[2].tolist() == pytest.approx([0.0, 0.5])  # 'square' is a class word


def test_caption_encoder_pools_the_words_of_each_span(tmp_path):
    vocab = tmp_path / 'vocab.txt'
    vocab.write_text('[PAD]\n[UNK]\na\nred\ncircle\nabove\nblue\nsquare\n')
    encoder = MODELS.build(
        dict(type='CaptionLSTMPhraseEncoder', vocab_file=str(vocab), embed_dim=4, hidden_dim=6)
    )
    caption = 'a red circle above a blue square'
    out = encoder(
        [caption, 'a square'],
        [[(0, 12), (19, 32)], [(-1, -1)]],
        [['a red circle', 'a blue square'], ['a square']],
    )
    assert out['phrases'].shape == (3, 6) and out['captions'].shape == (2, 6)
    assert out['owner'].tolist() == [0, 0, 1]
    states, _ = encoder.lstm(encoder.embedding(encoder._caption(caption)[0][None]))
    assert torch.allclose(out['phrases'][0], states[0, :3].mean(0), atol=1e-6)
    assert torch.allclose(out['phrases'][1], states[0, 4:].mean(0), atol=1e-6)
    assert torch.allclose(out['captions'][0], states[0].mean(0), atol=1e-6)
    # a phrase without a span is encoded from its own text
    own, _ = encoder.lstm(encoder.embedding(encoder.token_ids('a square')[None]))
    assert torch.allclose(out['phrases'][2], own[0].mean(0), atol=1e-6)
    assert out['phrase_ids'][1].tolist() == [2, 6, 7]


def test_heads_shapes_and_zero_initial_deltas():
    head = MODELS.build(dict(type='ReIRMatchingHead', dim=8, hidden_dim=4))
    scores, deltas = head(torch.randn(3, 8), torch.randn(3, 5, 8))
    assert scores.shape == (3, 5) and deltas.shape == (3, 5, 4)
    assert deltas.abs().sum() == 0  # an untrained head leaves the boxes
    no_q = MODELS.build(dict(type='ReIRMatchingHead', dim=8, reg_uses_phrase=False))
    assert no_q.reg[0].in_features == 8
    decoder = MODELS.build(
        dict(type='PhraseReconstructionDecoder', num_words=7, in_dim=8, embed_dim=4, hidden_dim=5)
    )
    logits, targets, mask = decoder(torch.randn(2, 8), [torch.tensor([2, 3, 4]), torch.tensor([5])])
    assert logits.shape == (2, 3, 7) and mask.tolist() == [[True] * 3, [True, False, False]]
    rel = MODELS.build(dict(type='RelationClassifier', dim=8, num_classes=4, hidden_dim=6))
    assert rel(torch.randn(2, 8), torch.randn(2, 8)).shape == (2, 4)
    geometry = box_geometry(torch.tensor([[10.0, 20, 30, 60]]), torch.tensor([[100, 50]]))
    assert torch.allclose(geometry, torch.tensor([[0.2, 0.2, 0.6, 0.6, 0.16]]))


def test_frozen_c4_extractor_pools_boxes_without_gradients():
    extractor = MODELS.build(
        dict(
            type='FrozenC4RoIExtractor',
            backbone=dict(
                type='ResNet',
                depth=18,
                num_stages=3,
                strides=(1, 2, 2),
                dilations=(1, 1, 1),
                out_indices=(2,),
                frozen_stages=3,
                norm_eval=True,
                base_channels=8,
            ),
        )
    )
    extractor.train()
    assert not extractor.backbone.training
    images = torch.randn(2, 3, 64, 64)
    feats = extractor(
        images,
        [torch.tensor([[0.0, 0, 32, 32], [16, 16, 64, 64]]), torch.tensor([[8.0, 8, 40, 56]])],
    )
    assert [f.shape for f in feats] == [(2, 32), (1, 32)]
    assert not feats[0].requires_grad
    assert all(not p.requires_grad for p in extractor.parameters())


def test_cross_process_batchnorm_is_batchnorm_in_one_process():
    from mmgrounding.models.heads.region_feature_embedder import CrossProcessBatchNorm1d

    torch.manual_seed(0)
    plain, synced = torch.nn.BatchNorm1d(3), CrossProcessBatchNorm1d(3)
    synced.load_state_dict(plain.state_dict())  # the same state dict
    x = torch.randn(5, 3) * 2 + 1
    xs = [x.clone().requires_grad_(), x.clone().requires_grad_()]
    for norm, xi in zip((plain, synced), xs):
        (norm(xi) * torch.arange(3.0)).sum().backward()
    torch.testing.assert_close(xs[1].grad, xs[0].grad)
    for key, value in plain.state_dict().items():
        torch.testing.assert_close(synced.state_dict()[key], value, msg=key)
    # one row: no batch statistics, passed through (as the embedder does with BN)
    assert torch.equal(synced(x[:1]), x[:1])
    embedder = MODELS.build(dict(type='RegionFeatureEmbedder', in_dim=4, out_dim=3, norm='SyncBN'))
    assert isinstance(embedder.norm, CrossProcessBatchNorm1d)
