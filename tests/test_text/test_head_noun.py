import pytest

from mmgrounding.text import head_noun


@pytest.mark.parametrize(
    'phrase, expected',
    [
        ('a man in a red sweater', 'man'),
        ('the two small dogs', 'dog'),  # lemmatised through WordNet's morphy
        ('spectators', 'spectator'),
        ('two men', 'man'),  # irregular plural from WordNet's noun.exc
        ('a red circle to the left of a blue square', 'circle'),
        ('the left one', 'one'),  # "one" stands for the noun
        ('A man is playing guitar', 'man'),  # the verb ends the phrase
        ('the dog that is sleeping on the couch', 'dog'),
        ('a black and white dog', 'dog'),  # no noun before "and": it does not end the phrase
        ("a man's hat", 'hat'),
        ('a busy city street', 'street'),
        ('in the box', 'box'),
        ('someone in red', 'someone'),
        ('she', 'she'),  # no noun: the fallback word
        ('', ''),
        ('. ,', ''),
    ],
)
def test_head_noun(phrase, expected):
    assert head_noun(phrase) == expected
