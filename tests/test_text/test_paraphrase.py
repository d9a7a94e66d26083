"""WordNet paraphrases of SynthGround-like phrases: head-noun synonyms and hypernyms,
adjective synonyms, number kept; LM paraphrases through a tiny local causal LM."""

from mmgrounding.text.paraphrase import (
    adjective_substitutes,
    normalize_text,
    noun_substitutes,
    pluralize,
    wordnet_paraphrases,
)


def test_nouns_get_synonyms_then_hypernyms_in_their_number():
    # triangle.n.01: lemmas triangle, trigon, trilateral; hypernym polygon, polygonal shape
    assert noun_substitutes('triangle') == ['trigon', 'trilateral', 'polygon', 'polygonal shape']
    assert noun_substitutes('triangles')[:2] == ['trigons', 'trilaterals']
    assert noun_substitutes('triangle', hypernyms=False) == ['trigon', 'trilateral']
    # circle.n.01 has no other lemma; its hypernym ellipse.n.01 is "ellipse, oval"
    assert noun_substitutes('circle') == ['ellipse', 'oval']
    assert noun_substitutes('zzyzx') == []


def test_adjectives_get_synonyms_of_their_first_sense():
    assert 'big' in adjective_substitutes('large')
    assert 'little' in adjective_substitutes('small')
    assert adjective_substitutes('red')[:2] == ['reddish', 'ruddy']


def test_phrase_paraphrases_replace_the_head_then_the_adjectives_then_both():
    assert wordnet_paraphrases('a red circle') == [
        'a red ellipse',
        'a red oval',
        'a reddish circle',
        'a ruddy circle',
        'a blood-red circle',
    ]
    out = wordnet_paraphrases('The small triangle', max_paraphrases=10)
    assert out[:4] == [
        'the small trigon',
        'the small trilateral',
        'the small polygon',
        'the small polygonal shape',
    ]
    assert 'the little triangle' in out and 'the little trigon' in out  # both at once
    assert 'the small triangle' not in out
    # "next" of "next to" is part of the preposition, not an adjective to replace
    assert all('next to' in p for p in wordnet_paraphrases('the star next to a circle'))
    # a vocabulary keeps only known words: "oval" and "small" are SynthGround words
    assert wordnet_paraphrases('a small circle', vocabulary={'a', 'small', 'oval'}) == [
        'a small oval'
    ]
    assert wordnet_paraphrases('') == [] and wordnet_paraphrases('of the') == []


def test_helpers():
    assert [pluralize(w) for w in ('box', 'berry', 'day', 'polygonal shape')] == [
        'boxes',
        'berries',
        'days',
        'polygonal shapes',
    ]
    assert normalize_text('  A  Red\tCircle ') == 'a red circle'


def test_lm_paraphrases_with_a_tiny_local_causal_lm(tmp_path):
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from mmgrounding.text.paraphrase import lm_paraphrases

    words = ['a', 'red', 'circle', 'crimson', 'ring', 'rewrite', 'phrase', ':', '\n']
    vocab = {w: i for i, w in enumerate(['[UNK]', '[EOS]'] + words)}
    core = Tokenizer(models.WordLevel(vocab, unk_token='[UNK]'))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token='[UNK]', eos_token='[EOS]')
    torch.manual_seed(0)
    model = GPT2LMHeadModel(
        GPT2Config(vocab_size=len(vocab), n_positions=64, n_embd=16, n_layer=1, n_head=2)
    ).eval()
    first = lm_paraphrases(
        model, tokenizer, 'a red circle', num=4, seed=0, prompt='phrase : {phrase} rewrite :'
    )
    again = lm_paraphrases(
        model, tokenizer, 'a red circle', num=4, seed=0, prompt='phrase : {phrase} rewrite :'
    )
    assert first == again  # seeded per phrase
    assert all(p and p != 'a red circle' for p in first)
    assert all(set(p.split()) <= set(words) | {'[unk]'} for p in first)
