"""InfoGroundGrounder: token selection, losses through the model, prediction."""
import pytest
import torch
from mmengine.structures import InstanceData

from mmgrounding.models.fusion.word_region_attention import phrase_region_scores
from mmgrounding.registry import MODELS
from mmgrounding.structures import GroundingDataSample

REGION_DIM = 6
WORDS = ['a', 'red', 'blue', 'big', 'circle', 'square', 'star', 'left', 'of', 'the', '##s']


def write_vocab(path) -> str:
    specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    path.write_text('\n'.join(specials + WORDS) + '\n')
    return str(path)


def tiny_infoground_cfg(vocab_file: str, **overrides) -> dict:
    bert = dict(vocab_size=32, hidden_size=16, num_attention_heads=2, intermediate_size=32,
                max_position_embeddings=32)
    cfg = dict(
        type='InfoGroundGrounder',
        text_encoder=dict(type='BertTextEncoder', config=bert, num_layers=1),
        tokenizer=dict(vocab_file=vocab_file),
        attention=dict(type='WordRegionAttention', region_dim=REGION_DIM, word_dim=16,
                       embed_dim=8))
    cfg.update(overrides)
    return cfg


CAPTIONS = ['a red circle left of a big blue square', 'the blue star', 'red circles']
# phrase spans in characters, end exclusive
SPANS = [[(0, 12), (21, 38)], [(0, 13)], [(0, 11)]]


def make_samples(captions=CAPTIONS, spans=SPANS, *, num_regions=(5, 3, 4), negatives=None,
                 seed=0):
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for i, caption in enumerate(captions):
        k = num_regions[i % len(num_regions)]
        corners = torch.rand(k, 2, generator=gen) * 50
        sample = GroundingDataSample()
        sample.set_metainfo(dict(
            img_id=i, caption=caption, phrase_spans=list(spans[i]),
            phrases=[caption[s:e] for s, e in spans[i]], ori_shape=(100, 100)))
        if negatives is not None and negatives[i] is not None:
            sample.set_metainfo(dict(negatives=negatives[i]))
        sample.proposals = InstanceData(
            bboxes=torch.cat([corners, corners + 10], dim=1),
            feats=torch.randn(k, REGION_DIM, generator=gen))
        samples.append(sample)
    return samples


@pytest.fixture
def model(tmp_path):
    torch.manual_seed(0)
    return MODELS.build(tiny_infoground_cfg(write_vocab(tmp_path / 'vocab.txt')))


def tokens(model, text):
    return model.tokenizer.convert_ids_to_tokens(model.tokenizer(text)['input_ids'])


def test_nouns_and_adjectives_select_their_wordpieces(model):
    caption = 'red circles left of the star'
    assert tokens(model, caption) == ['[CLS]', 'red', 'circle', '##s', 'left', 'of', 'the',
                                      'star', '[SEP]']
    offsets = model.tokenizer(caption, return_offsets_mapping=True,
                              return_tensors='pt')['offset_mapping'][0]
    # tag_words: red ADJ, circles NOUN (both pieces), left VERB, of ADP, the DET, star NOUN
    assert model.selected_tokens(caption, offsets).tolist() == [
        False, True, True, True, False, False, False, True, False]


def test_text_encoder_is_frozen_and_stays_in_eval_mode(model):
    model.train()
    assert model.training and model.attention.training
    assert not model.text_encoder.training
    assert not any(p.requires_grad for p in model.text_encoder.parameters())


def test_image_loss_trains_the_attention_only(model):
    model.train()
    losses = model.loss(None, make_samples())
    assert set(losses) == {'loss_img'}  # no negatives in the batch: no L_lang
    assert torch.isfinite(losses['loss_img']) and losses['loss_img'] > 0
    losses['loss_img'].backward()
    for name, param in model.attention.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    assert all(p.grad is None for p in model.text_encoder.parameters())


def test_image_loss_matches_the_attention_module(model):
    """The model's L_img is the loss of φ from WordRegionAttention on the same features."""
    model.eval()  # BatchNorm by running statistics: the projections do not depend on batching
    samples = make_samples()
    loss = model.loss(None, samples)['loss_img']
    words, word_mask, offsets = model.encode_text(CAPTIONS, torch.device('cpu'))
    regions, region_mask = model._regions(samples)
    phi, _ = model.attention(regions, words, region_mask=region_mask, word_mask=word_mask,
                             all_pairs=True)  # (B, B, L)
    token_mask = torch.stack([model.selected_tokens(c, o) for c, o in zip(CAPTIONS, offsets)])
    # red circle big blue square | blue star | red circle ##s
    assert token_mask.sum(dim=1).tolist() == [5, 2, 3]
    expected = -phi.log_softmax(dim=1).diagonal(dim1=0, dim2=1).T[token_mask].mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_language_loss_with_negatives(model):
    model.train()
    # "circle" (word 2) of the first caption: two substitutes; "star" (word 2) of the second
    negatives = [{2: ['square', 'star']}, [(2, ['circle'])], None]
    losses = model.loss(None, make_samples(negatives=negatives))
    assert set(losses) == {'loss_img', 'loss_lang'}
    assert torch.isfinite(losses['loss_lang']) and losses['loss_lang'] > 0
    losses['loss_lang'].backward()
    assert model.attention.word_query[0].weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.text_encoder.parameters())

    # by hand: φ of the true word and of its substitutes in the caption, same image
    model.eval()
    loss = model.loss(None, make_samples(negatives=negatives))['loss_lang']
    samples = make_samples()
    regions, region_mask = model._regions(samples)
    expected = []
    for b, (caption, subs, token) in enumerate([
            (CAPTIONS[0], ['square', 'star'], 3), (CAPTIONS[1], ['circle'], 3)]):
        start = caption.index(tokens(model, caption)[token])
        end = start + len(tokens(model, caption)[token])
        texts = [caption] + [caption[:start] + s + caption[end:] for s in subs]
        words, word_mask, _ = model.encode_text(texts, torch.device('cpu'))
        phi, _ = model.attention(regions[b:b + 1].expand(len(texts), -1, -1), words,
                                 region_mask=region_mask[b:b + 1].expand(len(texts), -1),
                                 word_mask=word_mask)  # (1 + K, L)
        expected.append(-phi[:, token].log_softmax(dim=0)[0])
    assert loss.item() == pytest.approx(torch.stack(expected).mean().item(), rel=1e-5)


def test_predict_ranks_proposals_by_phrase_region_scores(model):
    model.eval()
    samples = model.predict(None, make_samples())
    words, word_mask, _ = model.encode_text(CAPTIONS, torch.device('cpu'))
    regions, region_mask = model._regions(samples)
    _, attention = model.attention(regions, words, region_mask=region_mask,
                                   word_mask=word_mask)  # (B, L, K)
    # tokens ([CLS] first): "a red circle" 1-3, "a big blue square" 6-9, "the blue star" 1-3,
    # "red circles" 1-3 (circle ##s)
    phrase_tokens = [[[1, 2, 3], [6, 7, 8, 9]], [[1, 2, 3]], [[1, 2, 3]]]
    for i, sample in enumerate(samples):
        k = int(region_mask[i].sum())
        mask = torch.zeros(len(phrase_tokens[i]), attention.shape[1], dtype=torch.bool)
        for p, toks in enumerate(phrase_tokens[i]):
            mask[p, toks] = True
        scores = phrase_region_scores(attention[i, :, :k], mask)  # (P, K)
        assert sample.pred_boxes.shape == (len(SPANS[i]), k, 4)
        assert torch.equal(sample.pred_scores, scores.sort(dim=1, descending=True).values)
        order = scores.argsort(dim=1, descending=True, stable=True)
        assert torch.equal(sample.pred_boxes, sample.proposals.bboxes[order])
        # a phrase's attention over its image's regions sums to at most its token count
        assert (sample.pred_scores >= 0).all() and (sample.pred_scores <= 1).all()


def test_predict_is_deterministic(model):
    model.eval()
    first = model.predict(None, make_samples())
    second = model.predict(None, make_samples())
    for a, b in zip(first, second):
        assert torch.equal(a.pred_boxes, b.pred_boxes)
        assert torch.equal(a.pred_scores, b.pred_scores)
    model.train()
    assert torch.equal(model.loss(None, make_samples())['loss_img'],
                       model.loss(None, make_samples())['loss_img'])


def test_empty_phrases(model):
    model.eval()
    # no phrase at all, and a phrase without a span (-1, -1): no tokens, every region 0
    samples = model.predict(None, make_samples(spans=[[], [(-1, -1)], [(0, 3)]]))
    assert samples[0].pred_boxes.shape == (0, 5, 4) and samples[0].pred_scores.shape == (0, 5)
    assert samples[1].pred_boxes.shape == (1, 3, 4)
    assert torch.equal(samples[1].pred_scores, torch.zeros(1, 3))
    assert samples[2].pred_scores.shape == (1, 4) and samples[2].pred_scores.sum() > 0
    # a caption without nouns or adjectives: L_img is 0 and the graph is intact
    model.train()
    losses = model.loss(None, make_samples(captions=['of the', 'of a'], spans=[[], []]))
    assert losses['loss_img'].item() == 0.0 and losses['loss_img'].requires_grad


def test_negatives_of_a_missing_word_name_the_caption(model):
    with pytest.raises(ValueError, match='the blue star'):
        model.loss(None, make_samples(negatives=[None, {7: ['circle']}, None]))
