from mmgrounding.text import TAGS, tag_words, word_tokenize


def tagged(text):
    words = word_tokenize(text)
    return list(zip(words, tag_words(words)))


def test_flickr30k_caption():
    assert tagged('A man in a red sweater is playing guitar near two spectators .') == [
        ('a', 'DET'),
        ('man', 'NOUN'),
        ('in', 'ADP'),
        ('a', 'DET'),
        ('red', 'ADJ'),
        ('sweater', 'NOUN'),
        ('is', 'VERB'),
        ('playing', 'VERB'),
        ('guitar', 'NOUN'),
        ('near', 'ADP'),
        ('two', 'NUM'),
        ('spectators', 'NOUN'),
        ('.', 'OTHER'),
    ]


def test_adjectives_verbs_and_compounds():
    # Coordinated colours before a noun are adjectives; "runs" after a noun is a verb.
    assert tag_words(word_tokenize('A black and white dog runs through the tall grass')) == [
        'DET',
        'ADJ',
        'CONJ',
        'ADJ',
        'NOUN',
        'VERB',
        'ADP',
        'DET',
        'ADJ',
        'NOUN',
    ]
    # "wearing" and "holds" are verbs; "glasses" a noun; "her" a pronoun.
    assert tag_words(word_tokenize('A woman wearing glasses holds her baby')) == [
        'DET',
        'NOUN',
        'VERB',
        'NOUN',
        'VERB',
        'PRON',
        'NOUN',
    ]
    # An uninflected noun-or-verb after a noun is a compound ("tennis ball"); "plays" a verb.
    assert tag_words(word_tokenize('A boy plays soccer with a tennis ball')) == [
        'DET',
        'NOUN',
        'VERB',
        'NOUN',
        'ADP',
        'DET',
        'NOUN',
        'NOUN',
    ]


def test_referring_expressions():
    # "left" before "one" is an adjective and "one" stands for the noun.
    assert tag_words(['the', 'left', 'one']) == ['DET', 'ADJ', 'NOUN']
    # Without a noun after it, "left" is the noun of the phrase.
    assert dict(tagged('a red circle to the left of a blue square'))['left'] == 'NOUN'
    assert tagged('the guy on the right wearing a blue t-shirt') == [
        ('the', 'DET'),
        ('guy', 'NOUN'),
        ('on', 'ADP'),
        ('the', 'DET'),
        ('right', 'NOUN'),
        ('wearing', 'VERB'),
        ('a', 'DET'),
        ('blue', 'ADJ'),
        ('t-shirt', 'NOUN'),
    ]
    # "that": determiner before a noun, relative pronoun after one.
    assert tag_words(['that', 'dog']) == ['DET', 'NOUN']
    assert tag_words(['the', 'dog', 'that', 'is', 'sleeping']) == [
        'DET',
        'NOUN',
        'PRON',
        'VERB',
        'VERB',
    ]


def test_every_tag_is_known_and_input_case_is_ignored():
    words = word_tokenize('Two YOUNG children, and 3 dogs, are quickly running to a xyzzy!')
    tags = tag_words(words)
    assert len(tags) == len(words) and set(tags) <= set(TAGS)
    assert tags == tag_words([word.upper() for word in words])
    assert dict(zip(words, tags)) == {
        'two': 'NUM',
        'young': 'ADJ',
        'children': 'NOUN',
        ',': 'OTHER',
        'and': 'CONJ',
        '3': 'NUM',
        'dogs': 'NOUN',
        'are': 'VERB',
        'quickly': 'ADV',
        'running': 'VERB',
        'to': 'ADP',
        'a': 'DET',
        'xyzzy': 'NOUN',
        '!': 'OTHER',
    }
    assert tag_words([]) == []


def test_colour_after_a_number_modifies_a_plural_with_a_verb_reading():
    # "crosses" is also a verb ("he crosses"); after "two blue" it is the noun
    assert tag_words(['two', 'blue', 'crosses']) == ['NUM', 'ADJ', 'NOUN']
    assert tag_words(['the', 'dog', 'runs']) == ['DET', 'NOUN', 'VERB']
