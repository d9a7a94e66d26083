"""The ALBEF objective by value: ITC targets with momentum distillation and the queue, ITM
hard negatives, MLM masking proportions, and the AMC loss through Grad-CAM (gradcheck of the
second-order path; unequal inside and outside sizes with the mean hinge active).

Everything goes through the public ``ALBEFGrounder.loss`` / ``itm_logits``, the explainer's
``watch`` / ``explain`` and ``amc_loss``; the encoders of the ITC and ITM tests are replaced by
lookups of hand-made features so that every similarity is 0 or 1.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

from mmgrounding.models.losses import amc_loss
from mmgrounding.registry import MODELS
from mmgrounding.structures import GroundingDataSample

from .albef_tiny import tiny_albef_cfg, write_vocab

WIDTH = 32  # token width of the tiny config's ViT and BERT


@pytest.fixture
def vocab(tmp_path):
    return write_vocab(tmp_path / 'vocab.txt')


def make_samples(captions, img_ids):
    samples = []
    for caption, img_id in zip(captions, img_ids):
        sample = GroundingDataSample()
        sample.set_metainfo(
            dict(
                caption=caption,
                img_id=img_id,
                img_shape=(32, 32),
                ori_shape=(32, 32),
                phrases=[caption],
            )
        )
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[0.0, 0.0, 16.0, 16.0]]), labels=torch.tensor([0])
        )
        samples.append(sample)
    return samples


class ImageLookup(nn.Module):
    """Image tokens (B, 1 + 16, WIDTH): row ``image[b, 0, 0, 0]`` of ``rows``, every token."""

    def __init__(self, rows: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer('rows', rows)
        self.embed_dim = WIDTH

    def forward(self, images):
        index = images[:, 0, 0, 0].long()
        return self.rows[index][:, None].expand(-1, 17, -1)

    def patch_grid(self, image_hw):
        return (4, 4)


class TextLookup(nn.Module):
    """Text tokens (B, L, WIDTH): the row of the caption's first word, every token."""

    def __init__(self, rows_by_token: dict[int, torch.Tensor]) -> None:
        super().__init__()
        self.rows_by_token = rows_by_token

    def forward(self, input_ids, attention_mask):
        rows = torch.stack([self.rows_by_token[int(t)] for t in input_ids[:, 1]])
        return rows[:, None].expand(-1, input_ids.shape[1], -1)


def selector(offset: int, embed_dim: int = 16) -> nn.Linear:
    """Linear(WIDTH, embed_dim) that copies token dims offset, offset + 1 to dims 0, 1."""
    linear = nn.Linear(WIDTH, embed_dim)
    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.zero_()
        linear.weight[0, offset] = linear.weight[1, offset + 1] = 1.0
    return linear


def token(student, teacher=(0.0, 0.0)) -> torch.Tensor:
    """A token whose dims 0-1 are the student's ITC feature and 2-3 the teacher's."""
    row = torch.zeros(WIDTH)
    row[:4] = torch.tensor([*student, *teacher])
    return row


E0, E1 = (1.0, 0.0), (0.0, 1.0)


def hand_made_model(vocab, image_rows, text_rows, **cfg):
    """The tiny ALBEF whose ITC features are the hand-made unit vectors of the rows."""
    model = MODELS.build(tiny_albef_cfg(vocab, amc_loss=None, **cfg)).eval()  # no dropout
    lookup = ImageLookup(torch.stack(image_rows))
    model.image_encoder = model.image_encoder_m = lookup
    words = TextLookup({model.tokenizer.convert_tokens_to_ids(w): r for w, r in text_rows.items()})
    model.text_encoder = model.text_encoder_m = words
    model.vision_proj, model.vision_proj_m = selector(0), selector(2)
    model.text_proj, model.text_proj_m = selector(0), selector(2)
    model.teacher_pairs = []  # the teacher stays as set here
    return model


def images_of(indices):
    images = torch.zeros(len(indices), 3, 32, 32)
    images[:, 0, 0, 0] = torch.tensor(indices, dtype=torch.float)
    return images


# ---------------------------------------------------------------------- ITC
def test_itc_targets_mix_the_teacher_and_every_positive_of_batch_and_queue(vocab):
    """Two pairs (image ids 0 and 1), a queue of two slots, temperature 0.5, α = 0.4.

    Features (unit vectors e0, e1; similarity 1 -> logit 2, 0 -> logit 0):
      student image 0 = e0, image 1 = e1; teacher image 0 = e0, image 1 = e0
      student text 0 = e0, text 1 = e1;  teacher text 0 = e0, text 1 = e1
      queue slot 0: image id 0, text e0, image e1; slot 1: id -1 (matches nothing), text e1,
      image e0.
    Candidates: texts [teacher t0, t1, queue t0, t1] = [e0, e1, e0, e1]; images [teacher i0,
    i1, queue i0, i1] = [e0, e0, e1, e0]. Positives of id 0: batch column 0 and queue slot 0;
    of id 1: batch column 1 only. Target = 0.4 softmax(teacher logits) + 0.6 positives / count.
      i2t row 0: student [2,0,2,0], teacher [2,0,2,0] = softmax [p,q,p,q], p = e²/(2e²+2),
        q = 1/(2e²+2); target [0.4p+0.3, 0.4q, 0.4p+0.3, 0.4q]
        -> L = -(2(0.4p+0.3) log p + 0.8q log q)
      i2t row 1: student [0,2,0,2] (softmax [q,p,q,p]); teacher (image 1 = e0) [2,0,2,0];
        target [0.4p, 0.4q+0.6, 0.4p, 0.4q] -> L = -(0.8p log q + (0.8q+0.6) log p)
      t2i row 0: logits [2,2,0,2] for student and teacher: softmax [r,r,s,r], r = e²/(3e²+1),
        s = 1/(3e²+1); target [0.4r+0.3, 0.4r, 0.4s+0.3, 0.4r]
        -> L = -((1.2r+0.3) log r + (0.4s+0.3) log s)
      t2i row 1: logits [0,0,2,0]: softmax [v,v,u,v], u = e²/(e²+3), v = 1/(e²+3);
        target [0.4v, 0.4v+0.6, 0.4u, 0.4v] -> L = -((1.2v+0.6) log v + 0.4u log u)
    loss_itc = (mean i2t + mean t2i) / 2 = the mean of the four.
    """
    e2 = math.e**2
    p, q = e2 / (2 * e2 + 2), 1 / (2 * e2 + 2)
    r, s = e2 / (3 * e2 + 1), 1 / (3 * e2 + 1)
    u, v = e2 / (e2 + 3), 1 / (e2 + 3)
    rows = [
        -(2 * (0.4 * p + 0.3) * math.log(p) + 0.8 * q * math.log(q)),
        -(0.8 * p * math.log(q) + (0.8 * q + 0.6) * math.log(p)),
        -((1.2 * r + 0.3) * math.log(r) + (0.4 * s + 0.3) * math.log(s)),
        -((1.2 * v + 0.6) * math.log(v) + 0.4 * u * math.log(u)),
    ]
    model = hand_made_model(
        vocab,
        [token(E0, E0), token(E1, E0)],
        {'circle': token(E0, E0), 'square': token(E1, E1)},
        queue_size=2,
        temperature=0.5,
        distill_alpha=0.4,
        loss_weights=dict(mlm=0),
    )
    with torch.no_grad():
        model.text_queue.zero_()
        model.image_queue.zero_()
        model.text_queue[:2, 0] = torch.tensor(E0)
        model.text_queue[:2, 1] = torch.tensor(E1)
        model.image_queue[:2, 0] = torch.tensor(E1)
        model.image_queue[:2, 1] = torch.tensor(E0)
        model.idx_queue[0] = torch.tensor([0, -1])
    losses = model.loss(images_of([0, 1]), make_samples(['circle', 'square'], ['0', '1']))
    assert losses['loss_itc'].item() == pytest.approx(sum(rows) / 4, rel=1e-5)

    # the queue now holds this batch's teacher features and ids; the pointer wrapped round
    assert model.queue_ptr.tolist() == [0] and model.idx_queue.tolist() == [[0, 1]]
    torch.testing.assert_close(model.image_queue[:2], torch.tensor([[1.0, 1.0], [0.0, 0.0]]))
    torch.testing.assert_close(model.text_queue[:2], torch.tensor([[1.0, 0.0], [0.0, 1.0]]))


def test_itc_without_distillation_is_info_nce_over_the_positives(vocab):
    """α = 0, the same batch with an empty queue id (-1) in both slots: image 0's row is
    [2,0,2,0] with one positive (column 0): L = -log p; image 1: [0,2,0,2], L = -log p;
    texts: row 0 [2,2,0,2] -> -log r, row 1 [0,0,2,0] -> -log v (see the test above)."""
    e2 = math.e**2
    p, r, v = e2 / (2 * e2 + 2), e2 / (3 * e2 + 1), 1 / (e2 + 3)
    model = hand_made_model(
        vocab,
        [token(E0, E0), token(E1, E0)],
        {'circle': token(E0, E0), 'square': token(E1, E1)},
        queue_size=2,
        temperature=0.5,
        distill_alpha=0.0,
        loss_weights=dict(mlm=0),
    )
    with torch.no_grad():
        model.text_queue.zero_()
        model.image_queue.zero_()
        model.text_queue[:2] = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        model.image_queue[:2] = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    losses = model.loss(images_of([0, 1]), make_samples(['circle', 'square'], ['0', '1']))
    expected = -(2 * math.log(p) + math.log(r) + math.log(v)) / 4
    assert losses['loss_itc'].item() == pytest.approx(expected, rel=1e-5)


# ---------------------------------------------------------------------- ITM
def record_itm_inputs(model):
    """Wrap the model's ``fuse`` to record (text, mask, image) of each row of each call (ITM's
    rows when MLM is off).

    The image side reaches the fusion encoder as each layer's cross-attention keys and values
    (``image_kv`` or ``image_groups``); "image" is recorded as the image tokens whose first
    layer's keys those are, found among the candidate images the model computed keys for
    (``image_keys_values`` or ``image_keys_values_with_frozen_copy``)."""
    calls, candidates = [], []
    original, keys_values = model.fuse, model.fusion.image_keys_values
    with_frozen_copy = model.fusion.image_keys_values_with_frozen_copy

    def image_keys_values(image):
        candidates.append(image.detach())
        return keys_values(image)

    def image_keys_values_with_frozen_copy(image):
        candidates.append(image.detach())
        return with_frozen_copy(image)

    def tokens_of(keys):
        """(R, heads, N, d) first-layer keys -> (R, N, C): the candidate image of each row."""
        images = torch.cat(candidates)  # (C', N, C)
        ref = torch.cat([kv[0][0] for kv in map(keys_values, images[:, None])])  # (C', ...)
        match = (keys[:, None] - ref[None]).flatten(2).abs().amax(-1) < 1e-6  # (R, C')
        assert (match.sum(1) >= 1).all(), 'a row whose keys are no candidate image'
        return images[match.float().argmax(1)]

    def fuse(text_embeds, text_mask, image_embeds, *, image_kv=None, image_groups=None):
        image = image_embeds
        if image_kv is not None:
            image = tokens_of(image_kv[0][0].detach())
        if image_groups is not None:  # group g's row i is over image i % B_g of its image_kv
            keys = [kv[0][0].detach().repeat(r, 1, 1, 1) for kv, r in image_groups]
            image = tokens_of(torch.cat(keys))
        calls.append((text_embeds.detach(), text_mask, image.detach()))
        return original(
            text_embeds, text_mask, image_embeds, image_kv=image_kv, image_groups=image_groups
        )

    model.fuse = fuse
    model.fusion.image_keys_values = image_keys_values
    model.fusion.image_keys_values_with_frozen_copy = image_keys_values_with_frozen_copy
    return calls


def itm_rows(calls):
    """(texts, masks, images) of all recorded rows, the calls' rows one after another."""
    return tuple(torch.cat(parts) for parts in zip(*calls))


# Four pairs; pairs 0 and 1 show the same image (id '7'). Student ITC features (e0, e1, and
# their normalised sum d): image 0 e0, image 1 e0, image 2 d, image 3 e1; text 0 e0, text 1 e0,
# text 2 e1, text 3 d.
ITM_IMAGES = [token(E0), token(E0), token((1.0, 1.0)), token(E1)]
ITM_TEXTS = {'circle': token(E0), 'square': token(E1), 'star': token((1.0, 1.0))}
ITM_CAPTIONS = ['circle', 'circle', 'square', 'star']
ITM_IDS = ['7', '7', '8', '9']


def test_itm_hardest_negatives_skip_pairs_of_the_same_image(vocab):
    """'hardest' takes the most similar pair of another image (cosines of the features above).
    Negative image per text: text 0 (e0) may not take images 0, 1 (its own image, cos 1);
    of image 2 (d, 0.71) and 3 (e1, 0) it takes 2; text 1 likewise 2; text 2 (e1): image 3
    (cos 1; image 2 is its own); text 3 (d): image 2 (cos 1; image 3 is its own) -> [2, 2, 3, 2].
    Negative text per image: image 0 (e0) may not take texts 0, 1; text 3 (d, 0.71) beats
    text 2 (e1, 0) -> 3; image 1 -> 3; image 2 (d): text 3 (cos 1) -> 3; image 3 (e1): text 2
    (cos 1) -> 2. Without the same-image exclusion texts 0 and 1 would take image 0 or 1."""
    model = hand_made_model(
        vocab, ITM_IMAGES, ITM_TEXTS, hard_negatives='hardest', loss_weights=dict(mlm=0)
    )
    calls = record_itm_inputs(model)
    model.loss(images_of([0, 1, 2, 3]), make_samples(ITM_CAPTIONS, ITM_IDS))
    texts, masks, images = itm_rows(calls)
    image_embeds = model.image_encoder(images_of([0, 1, 2, 3]))
    text_embeds = texts[:4]
    # rows 0-3: the positive pairs; 4-7: each image with its negative text; 8-11: each text
    # with its negative image
    torch.testing.assert_close(images[:4], image_embeds)
    torch.testing.assert_close(images[4:8], image_embeds)
    torch.testing.assert_close(texts[4:8], text_embeds[[3, 3, 3, 2]])
    torch.testing.assert_close(masks[4:8], masks[:4][[3, 3, 3, 2]])
    torch.testing.assert_close(images[8:], image_embeds[[2, 2, 3, 2]])
    torch.testing.assert_close(texts[8:], text_embeds)


# Four pairs of four images; 'circle' is annotated on images 0 and 3, whose features equal
# the circle's: ALBEF's rule (another image id) makes each the other's hardest negative.
REPEAT_IMAGES = [token(E0), token(E1), token((1.0, 1.0)), token(E0)]
REPEAT_CAPTIONS = ['circle', 'square', 'star', 'circle']
REPEAT_IDS = ['7', '8', '9', '10']


@pytest.mark.parametrize(
    'itm_negatives, expected',
    [('other_image', [3, 2, 0, 0]), ('unannotated', [2, 2, 0, 2])],
)
def test_itm_unannotated_negatives_skip_texts_repeated_on_other_images(
    vocab, itm_negatives, expected
):
    """'hardest' over REPEAT_*: text 0 'circle' (e0) against images 1 (e1, cos 0), 2 (d,
    0.71), 3 (e0, cos 1): ALBEF takes image 3, which carries 'circle' too; 'unannotated'
    skips it -> 2. Text 1 (e1): image 2 (0.71) either way. Text 2 (d): images 0, 1, 3 tie at
    0.71 -> the first, 0. Text 3 'circle': image 0 (cos 1, carries 'circle') or, skipped, 2.
    The negative texts of the images are the same indices by symmetry: image 0 (e0) against
    text 3 'circle' (cos 1, equal to image 0's own text) or, skipped, text 2 (0.71)."""
    model = hand_made_model(
        vocab,
        REPEAT_IMAGES,
        ITM_TEXTS,
        hard_negatives='hardest',
        itm_negatives=itm_negatives,
        loss_weights=dict(mlm=0),
    )
    calls = record_itm_inputs(model)
    model.loss(images_of([0, 1, 2, 3]), make_samples(REPEAT_CAPTIONS, REPEAT_IDS))
    texts, _, images = itm_rows(calls)
    image_embeds = model.image_encoder(images_of([0, 1, 2, 3]))
    torch.testing.assert_close(images[8:], image_embeds[expected])
    torch.testing.assert_close(texts[4:8], texts[:4][expected])


def test_itm_negatives_must_be_named(vocab):
    with pytest.raises(ValueError, match='itm_negatives'):
        MODELS.build(tiny_albef_cfg(vocab, itm_negatives='same_text'))


def test_itm_sampled_negatives_follow_the_similarities_of_other_images(vocab):
    """'sample' draws the negative image of text b with probability ∝ exp(cos / τ) over the
    images of other ids (ALBEF). τ = 0.5: for text 0 (e0) the candidates are image 2
    (cos 1/√2) and image 3 (cos 0): P(2) = e^√2 / (e^√2 + 1) = 0.8044; never 0 or 1."""
    torch.manual_seed(0)
    model = hand_made_model(vocab, ITM_IMAGES, ITM_TEXTS, temperature=0.5, loss_weights=dict(mlm=0))
    calls = record_itm_inputs(model)
    draws = 300
    picked = []  # which image each negative pair of text 0 and text 1 used (token dims 0-1)
    for _ in range(draws):
        calls.clear()
        model.loss(images_of([0, 1, 2, 3]), make_samples(ITM_CAPTIONS, ITM_IDS))
        picked.append(itm_rows(calls)[2][8:10, 0, :2])  # rows 8-11: texts, negative images
    picked = torch.stack(picked)  # (draws, 2, 2)
    is_image = {
        name: (picked == torch.tensor(row[:2])).all(-1)
        for name, row in (('e0', token(E0)), ('d', token((1.0, 1.0))), ('e1', token(E1)))
    }
    assert not is_image['e0'].any()  # images 0 and 1 are text 0's and text 1's own image
    share = is_image['d'].float().mean().item()
    expected = math.exp(2**0.5) / (math.exp(2**0.5) + 1)  # 0.8044
    sigma = (expected * (1 - expected) / (2 * draws)) ** 0.5  # 0.016
    assert abs(share - expected) < 4 * sigma, (share, expected)


# ---------------------------------------------------------------------- MLM
def test_mlm_masks_15_percent_of_the_words_80_10_10(vocab, monkeypatch):
    """Over the non-special tokens of 64 captions × 12 draws (≈ 4600 tokens): 15% masked;
    of those, [MASK] 80% + 10%/V (a random token can be [MASK]), kept 10% + 10%/V, another
    token 10% (V − 2)/V, with V = 18 tokens; special tokens ([CLS], [SEP], [PAD]) never.
    Tolerances: 4 binomial standard deviations."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_albef_cfg(vocab, amc_loss=None)).eval()
    tokenizer = model.tokenizer
    words = [
        'a',
        'red',
        'blue',
        'green',
        'circle',
        'square',
        'star',
        'on',
        'the',
        'left',
        'right',
        'small',
        'large',
    ]
    gen = torch.Generator().manual_seed(1)
    captions = [
        ' '.join(words[i] for i in torch.randint(0, 13, (int(n),), generator=gen))
        for n in torch.randint(3, 12, (64,), generator=gen)
    ]
    seen = []  # input ids of each text-encoder call
    model.text_encoder.register_forward_pre_hook(lambda mod, args: seen.append(args[0]))
    labels = []  # the MLM targets of each step
    mask_tokens = model.mask_tokens

    def recording_mask_tokens(input_ids):
        masked_ids, target = mask_tokens(input_ids)
        labels.append(target)
        return masked_ids, target

    monkeypatch.setattr(model, 'mask_tokens', recording_mask_tokens)
    originals, masked_inputs = [], []
    for _ in range(12):
        seen.clear()
        model.loss(torch.randn(64, 3, 32, 32), make_samples(captions, [str(i) for i in range(64)]))
        ((both),) = seen  # one pass: the captions, then their MLM copies
        original, masked = both.chunk(2)
        originals.append(original)
        masked_inputs.append(masked)
    original, masked_ids = torch.cat(originals), torch.cat(masked_inputs)
    label = torch.cat([y.view(original.shape[0] // 12, -1) for y in labels])
    special = torch.isin(original, torch.tensor(tokenizer.all_special_ids))
    chosen = label != -100
    assert not (chosen & special).any()
    assert torch.equal(label[chosen], original[chosen])  # the targets are the true tokens
    assert torch.equal(masked_ids[~chosen], original[~chosen])  # the rest untouched
    words_count, chosen_count = int((~special).sum()), int(chosen.sum())

    def close(share, expected, n):
        return abs(share - expected) < 4 * (expected * (1 - expected) / n) ** 0.5

    assert close(chosen_count / words_count, 0.15, words_count), chosen_count / words_count
    vocab_size = len(tokenizer)
    as_mask = masked_ids[chosen] == tokenizer.mask_token_id
    kept = masked_ids[chosen] == original[chosen]
    other = ~as_mask & ~kept
    assert close(as_mask.float().mean().item(), 0.8 + 0.1 / vocab_size, chosen_count)
    assert close(kept.float().mean().item(), 0.1 + 0.1 / vocab_size, chosen_count)
    assert close(other.float().mean().item(), 0.1 * (vocab_size - 2) / vocab_size, chosen_count)


# ---------------------------------------------------------------------- AMC
def test_amc_loss_with_unequal_inside_and_outside_and_the_mean_hinge_active():
    """3×3 map, inside = the first two cells of the top row (2 cells), outside 7 cells.
    mean_in = (0.5 + 0.3) / 2 = 0.4; mean_out = (0.2+0.1+0.9+0.4+0.0+0.6+0.3) / 7 = 2.5 / 7
    L_mean = 2.5/7 − 0.4 + 0.1 = 0.4 / 7 = 0.0571 (active); L_max = 0.9 − 0.5 + 0.5 = 0.9
    L = 0.2 · 0.4/7 + 0.8 · 0.9 = 0.73143.
    Gradient: inside cell 0 (the inside max) −0.2/2 − 0.8 = −0.9, inside cell 1 −0.1; the
    outside max (centre) 0.2/7 + 0.8, the other outside cells 0.2/7."""
    cam = torch.tensor([[[0.5, 0.3, 0.2], [0.1, 0.9, 0.4], [0.0, 0.6, 0.3]]], requires_grad=True)
    mask = torch.zeros(1, 3, 3)
    mask[0, 0, :2] = 1
    loss = amc_loss(cam, mask)
    assert loss.item() == pytest.approx(0.2 * 0.4 / 7 + 0.8 * 0.9, rel=1e-6)
    assert amc_loss(cam, mask, variant='mean').item() == pytest.approx(0.4 / 7, rel=1e-6)
    loss.sum().backward()
    expected = torch.full((3, 3), 0.2 / 7)
    expected[0, 0], expected[0, 1], expected[1, 1] = -0.9, -0.1, 0.2 / 7 + 0.8
    torch.testing.assert_close(cam.grad[0], expected)


class TinyFusionModel(nn.Module):
    """Two ALBEF fusion layers (width 8, 2 heads) and an ITM head, in float64."""

    def __init__(self):
        super().__init__()
        config = dict(
            hidden_size=8,
            num_attention_heads=2,
            intermediate_size=16,
            initializer_range=0.5,
            hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0,
        )
        self.fusion = MODELS.build(
            dict(type='ALBEFFusionEncoder', config=config, num_layers=2, image_dim=8)
        )
        self.itm_head = nn.Linear(8, 2)

    def forward(self, text, mask, image):
        return self.itm_head(self.fusion(text, mask, image)[:, 0])[:, 1]  # (B,)


def test_amc_loss_through_grad_cam_passes_gradcheck_in_float64():
    """The AMC loss of the Grad-CAM of the first fusion layer, upsampled from the 2×2 grid to
    4×4 and compared with a 3-cell box: its gradient (which differentiates the Grad-CAM
    gradient, ``create_graph=True``) against finite differences, with respect to the text
    and image tokens and a weight of the second fusion layer (the second-order path)."""
    torch.manual_seed(5)  # a point where both hinges are active (and no map cell is 0)
    model = TinyFusionModel().double().eval()
    explainer = MODELS.build(
        dict(type='GradCAMExplainer', target_layer='fusion.layers.0.crossattention.self')
    )
    mask = torch.tensor([[True, True, True], [True, True, False]])
    box = torch.zeros(2, 4, 4, dtype=torch.float64)
    box[:, :1, :3] = 1  # 3 cells inside, 13 outside
    weight_name = 'fusion.layers.1.output.dense.weight'
    params = dict(model.named_parameters())

    def loss_fn(text, image, weight, *, terms=False):
        with explainer.watch(model) as captured, sdpa_kernel(SDPBackend.MATH):
            score = torch.func.functional_call(
                model, {**params, weight_name: weight}, (text, mask, image)
            )
        cam = explainer.explain(
            score, captured['probs'], text_mask=mask, grid_hw=(2, 2), create_graph=True
        )  # (B, 2, 2)
        cam = F.interpolate(cam[:, None], size=(4, 4), mode='bilinear', align_corners=False)[:, 0]
        if terms:
            return (
                amc_loss(cam, box, variant='mean', margin_mean=0.1),
                amc_loss(cam, box, variant='max', margin_max=0.5),
            )
        return amc_loss(cam, box).sum()

    text = torch.randn(2, 3, 8, dtype=torch.float64, requires_grad=True)
    image = torch.randn(2, 5, 8, dtype=torch.float64, requires_grad=True)
    weight = params[weight_name].detach().clone().requires_grad_()
    l_mean, l_max = loss_fn(text, image, weight, terms=True)
    assert (l_mean > 0).all() and (l_max > 0).all()  # both hinges active at this point
    assert torch.autograd.gradcheck(loss_fn, (text, image, weight), eps=1e-6, atol=1e-5)
    # the loss reaches the second layer's weight only through the Grad-CAM gradient
    grad = torch.autograd.grad(loss_fn(text, image, weight), weight)[0]
    assert grad.abs().sum() > 0
