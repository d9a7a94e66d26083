from mmgrounding.text import word_tokenize, word_tokenize_with_spans


def test_flickr30k_caption():
    assert word_tokenize('A man in a red sweater is playing guitar near two spectators.') == [
        'a',
        'man',
        'in',
        'a',
        'red',
        'sweater',
        'is',
        'playing',
        'guitar',
        'near',
        'two',
        'spectators',
        '.',
    ]


def test_punctuation_hyphens_and_clitics():
    assert word_tokenize("A little girl in a pink T-shirt, holding a man's hand!") == [
        'a',
        'little',
        'girl',
        'in',
        'a',
        'pink',
        't-shirt',
        ',',
        'holding',
        'a',
        'man',
        "'s",
        'hand',
        '!',
    ]
    assert word_tokenize("Don't") == ['do', "n't"]
    assert word_tokenize('1,000 people (3.5 m) -- left') == [
        '1,000',
        'people',
        '(',
        '3.5',
        'm',
        ')',
        '-',
        '-',
        'left',
    ]
    assert word_tokenize('') == []
    assert word_tokenize('  \t\n') == []


def test_spans_point_back_into_the_text():
    text = 'The man’s hat , on the LEFT.'
    words, spans = word_tokenize_with_spans(text)
    assert words == ['the', 'man', "'s", 'hat', ',', 'on', 'the', 'left', '.']
    # Each span cuts the token out of the original text (’ counts as ').
    assert [text[start:end].lower().replace('’', "'") for start, end in spans] == words
    # Tokens cover every non-space character exactly once.
    assert sum(end - start for start, end in spans) == len(text.replace(' ', ''))
