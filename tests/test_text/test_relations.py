import pytest

from mmgrounding.text import relation_phrases


def spans_of(caption, phrases):
    """Character spans of ``phrases`` found left to right in ``caption``."""
    spans, start = [], 0
    for phrase in phrases:
        start = caption.index(phrase, start)
        spans.append((start, start + len(phrase)))
        start += len(phrase)
    return spans


def test_spatial_relation():
    caption = 'a red circle to the left of a blue square'
    spans = spans_of(caption, ['a red circle', 'a blue square'])
    assert spans == [(0, 12), (28, 41)]
    assert relation_phrases(caption, spans) == [(0, 1, 'to the left of')]
    # A span without its determiner leaves "a" between the phrases: it is stripped.
    assert relation_phrases(caption, spans_of(caption, ['red circle', 'blue square'])) == [
        (0, 1, 'to the left of')
    ]


def test_flickr30k_caption_with_conjunctions_and_clauses():
    caption = (
        'A man in a red sweater is playing guitar near two spectators , '
        'and a dog , which is lying on a rug .'
    )
    phrases = ['A man', 'a red sweater', 'guitar', 'two spectators', 'a dog', 'a rug']
    assert relation_phrases(caption, spans_of(caption, phrases)) == [
        (0, 1, 'in'),
        (1, 2, 'is playing'),
        (2, 3, 'near'),
        # (3, 4): only ", and ," lies between "two spectators" and "a dog": no relation.
        (4, 5, 'is lying on'),  # ", which" stripped
    ]


def test_edge_cases():
    assert relation_phrases('a dog', [(0, 5)]) == []
    assert relation_phrases('', []) == []
    assert relation_phrases('a man and his dog', [(0, 5), (14, 17)]) == []  # "and his"
    with pytest.raises(ValueError, match='span 1'):
        relation_phrases('a man and a dog', [(6, 9), (0, 5)])
    with pytest.raises(ValueError, match='not inside'):
        relation_phrases('a dog', [(0, 50)])
