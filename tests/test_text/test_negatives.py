"""InfoGround's context-preserving negatives: selection by hand, the LM runner, determinism."""

import json

import pytest
import torch
from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

from mmgrounding.text.negatives import (
    candidate_token_ids,
    caption_negatives,
    context_preserving_negatives,
    masked_lm_log_probs,
    noun_positions,
    noun_vocabulary,
    plausible_negatives,
    random_negatives,
    read_negatives,
    seeded_generator,
)

# A toy vocabulary: id 0..7
WORDS = ['[PAD]', 'dog', 'puppy', 'cat', 'ball', 'hat', 'the', 'animal']
DOG, PUPPY, CAT, BALL, HAT, THE, ANIMAL = range(1, 8)
CANDIDATES = torch.tensor([DOG, PUPPY, CAT, BALL, HAT, ANIMAL])  # the nouns; "the" is not one


def log(probs):
    return torch.tensor([probs]).log()


# "the [MASK] chased the ball": p(s'|c) from the masked caption. The context fits a dog, a
# puppy, a cat or an animal; "the" is likely too but is no noun.
P = log([0.0001, 0.30, 0.20, 0.10, 0.02, 0.01, 0.27, 0.0999])
# q(s'|s,c) at the same position of the unmasked "the dog chased the ball": the LM sees "dog",
# so dog and its synonym/hypernym stay likely while cat becomes unlikely.
Q = log([0.0001, 0.60, 0.20, 0.01, 0.02, 0.01, 0.0699, 0.09])


def test_reranking_keeps_a_plausible_non_synonym_and_rejects_the_word():
    # top-4 of p among the candidates: dog .30, puppy .20, cat .10, animal .0999 (ball and hat
    # are less likely, "the" is no candidate). log p − log q: dog log .5 (but it is the word),
    # puppy log 1 = 0, cat log 10 = 2.30, animal log 1.11 = 0.105 -> cat, animal, puppy.
    ids = context_preserving_negatives(
        P, Q, CANDIDATES, torch.tensor([DOG]), num_plausible=4, num_negatives=3
    )
    assert ids.tolist() == [[CAT, ANIMAL, PUPPY]]
    # keep 2: the synonym is the one that goes
    ids = context_preserving_negatives(
        P, Q, CANDIDATES, torch.tensor([DOG]), num_plausible=4, num_negatives=2
    )
    assert ids.tolist() == [[CAT, ANIMAL]]
    # without reranking the synonym comes first (the paper's "plausible negatives" row)
    assert plausible_negatives(P, CANDIDATES, torch.tensor([DOG]), num_negatives=2).tolist() == [
        [PUPPY, CAT]
    ]


def test_selection_pads_when_candidates_run_out_and_is_batched():
    # only 3 plausible candidates, the word among them: 2 remain, the rest is -1
    ids = context_preserving_negatives(
        P,
        Q,
        torch.tensor([DOG, PUPPY, CAT]),
        torch.tensor([DOG]),
        num_plausible=30,
        num_negatives=4,
    )
    assert ids.tolist() == [[CAT, PUPPY, -1, -1]]
    # two rows at once equal the rows one by one; -1 = the word is not a single token
    log_p, log_q = torch.cat([P, Q]), torch.cat([Q, P])
    batched = context_preserving_negatives(
        log_p, log_q, CANDIDATES, torch.tensor([DOG, -1]), num_plausible=5, num_negatives=3
    )
    for row, original in enumerate([DOG, -1]):
        single = context_preserving_negatives(
            log_p[row : row + 1],
            log_q[row : row + 1],
            CANDIDATES,
            torch.tensor([original]),
            num_plausible=5,
            num_negatives=3,
        )
        assert batched[row].tolist() == single[0].tolist()
    assert DOG not in batched[0].tolist() and THE not in batched.flatten().tolist()


def test_zero_probabilities_stay_ordered():
    # q(cat) underflowed to 0 (log −inf): cat is the least synonymous, it ranks first rather
    # than being lost; p(hat) = 0 puts hat last among the plausible, but still a candidate
    q = Q.clone()
    q[0, CAT] = float('-inf')
    p = P.clone()
    p[0, HAT] = float('-inf')
    ids = context_preserving_negatives(
        p, q, CANDIDATES, torch.tensor([DOG]), num_plausible=6, num_negatives=5
    )
    assert ids[0, 0] == CAT and set(ids[0].tolist()) == {PUPPY, CAT, BALL, HAT, ANIMAL}
    assert plausible_negatives(p, CANDIDATES, torch.tensor([DOG]), num_negatives=5)[0, -1] == HAT


def test_ties_break_by_the_lower_id():
    flat = torch.zeros(1, 8)
    ids = context_preserving_negatives(
        flat, flat, CANDIDATES, torch.tensor([-1]), num_plausible=3, num_negatives=3
    )
    assert ids.tolist() == [[DOG, PUPPY, CAT]]


def test_random_negatives_are_seeded_candidates_without_the_word():
    draw = [
        random_negatives(
            CANDIDATES,
            torch.tensor([DOG, CAT]),
            num_negatives=4,
            generator=seeded_generator(0, '17'),
        )
        for _ in range(2)
    ]
    assert torch.equal(draw[0], draw[1])
    assert DOG not in draw[0][0].tolist() and CAT not in draw[0][1].tolist()
    assert set(draw[0].flatten().tolist()) <= set(CANDIDATES.tolist())
    assert len(set(draw[0][0].tolist())) == 4  # without replacement
    other = random_negatives(
        CANDIDATES, torch.tensor([DOG, CAT]), num_negatives=4, generator=seeded_generator(1, '17')
    )
    assert not torch.equal(draw[0], other)
    padded = random_negatives(
        CANDIDATES, torch.tensor([DOG]), num_negatives=7, generator=seeded_generator(0, 'x')
    )
    assert sorted(padded[0, :5].tolist()) == [PUPPY, CAT, BALL, HAT, ANIMAL]
    assert padded[0, 5:].tolist() == [-1, -1]


def test_nouns_of_captions():
    captions = ['A dog chased the red ball .', 'The red dog sleeps .', 'A cat in the red .']
    # "red" is a noun once ("in the red") and an adjective twice: it is mostly not a noun.
    # By count, then alphabetically: dog 2, ball 1, cat 1.
    assert noun_vocabulary(captions) == ['dog', 'ball', 'cat']
    assert 'red' in noun_vocabulary(captions, min_noun_fraction=0.0)
    assert noun_positions(['a', 'dog', 'chased', 'the', 'ball', '.']) == [1, 4]
    assert candidate_token_ids(['ball', 'dog', 'dogs'], {'dog': 5, 'ball': 2}).tolist() == [2, 5]


@pytest.fixture
def tiny_lm(tmp_path):
    """A randomly initialised BertForMaskedLM and its tokenizer, built from a config."""
    vocab = [
        '[PAD]',
        '[UNK]',
        '[CLS]',
        '[SEP]',
        '[MASK]',
        'a',
        'the',
        'dog',
        'puppy',
        'cat',
        'ball',
        'hat',
        'chased',
        'park',
        'in',
        '.',
        '##s',
        'big',
    ]
    path = tmp_path / 'vocab.txt'
    path.write_text('\n'.join(vocab) + '\n')
    tokenizer = BertTokenizerFast(vocab=str(path))
    torch.manual_seed(0)
    model = BertForMaskedLM(
        BertConfig(
            vocab_size=len(vocab),
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            max_position_embeddings=32,
        )
    )
    return model, tokenizer


def test_masked_lm_log_probs(tiny_lm):
    model, tokenizer = tiny_lm
    words = ['the', 'dogs', 'chased', 'a', 'big', 'ball', '.']
    log_p, log_q, original = masked_lm_log_probs(model, tokenizer, words, [1, 5])
    assert log_p.shape == log_q.shape == (2, len(tokenizer))
    torch.testing.assert_close(log_p.exp().sum(-1), torch.ones(2))
    # "dogs" is two pieces (dog ##s): no single id; "ball" is one
    assert original.tolist() == [-1, tokenizer.convert_tokens_to_ids('ball')]
    # p of "ball" equals the LM run by hand on "[CLS] the dogs chased a big [MASK] . [SEP]"
    ids = tokenizer(words, is_split_into_words=True)['input_ids']
    masked = ids[:7] + [tokenizer.mask_token_id] + ids[8:]
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([masked])).logits[0, 7]
    torch.testing.assert_close(log_p[1], logits.log_softmax(-1), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match='not in the tokenised caption'):
        masked_lm_log_probs(model, tokenizer, words, [9])


@pytest.mark.parametrize('mode', ['reranked', 'plausible', 'random'])
def test_caption_negatives_are_deterministic(tiny_lm, mode):
    model, tokenizer = tiny_lm
    candidates = candidate_token_ids(
        ['dog', 'puppy', 'cat', 'ball', 'hat', 'park'], tokenizer.get_vocab()
    )
    words = ['the', 'dog', 'chased', 'a', 'ball', 'in', 'the', 'park', '.']

    def run():
        return caption_negatives(
            model,
            tokenizer,
            words,
            [1, 4, 7],
            candidates,
            mode=mode,
            num_plausible=5,
            num_negatives=3,
            generator=seeded_generator(0, '42'),
        )

    first = run()
    assert first == run()
    assert sorted(first) == [1, 4, 7]
    for position, negatives in first.items():
        assert len(negatives) == 3 and words[position] not in negatives
        assert set(negatives) <= {'dog', 'puppy', 'cat', 'ball', 'hat', 'park'}
    assert caption_negatives(model, tokenizer, words, [], candidates, mode=mode) == {}


def test_read_negatives_refuses_other_files(tmp_path):
    path = tmp_path / 'x.json'
    path.write_text(json.dumps(dict(captions={})))
    with pytest.raises(ValueError, match='x.json'):
        read_negatives(str(path))


def test_random_caption_nouns_come_from_other_images():
    from mmgrounding.text.negatives import random_caption_nouns, seeded_generator

    # pool: two captions of the positive image 7 (their nouns never appear), one of image 8
    # with "cat" and "dog", one of image 9 without nouns (passed over), one of image 9 with
    # "car" and the positive word "man" (excluded)
    nouns = [['man', 'horse'], ['horse'], ['cat', 'dog'], [], ['car', 'man']]
    images = [7, 7, 8, 9, 9]
    drawn = random_caption_nouns(
        nouns, images, 7, exclude=('man',), num_negatives=12, generator=seeded_generator(0, '1/2')
    )
    assert len(drawn) == 12
    assert set(drawn) <= {'cat', 'dog', 'car'} and len(set(drawn)) == 3  # repeats allowed
    # the same seed and key give the same draw; the image id may be a string
    assert (
        random_caption_nouns(
            nouns,
            images,
            '7',
            exclude=('man',),
            num_negatives=12,
            generator=seeded_generator(0, '1/2'),
        )
        == drawn
    )
    # only the positive image in the pool: nothing to draw, after max_rounds rounds
    assert (
        random_caption_nouns(
            nouns[:2], images[:2], 7, num_negatives=3, generator=seeded_generator(0, 'x')
        )
        == []
    )
    with pytest.raises(ValueError, match='noun lists'):
        random_caption_nouns(nouns, images[:2], 7)
