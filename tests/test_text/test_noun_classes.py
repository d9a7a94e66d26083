"""The noun -> classifier-class link of CAM-WSVG on a few WordNet nouns."""

import pytest

from mmgrounding.text.noun_classes import NounClassMapper, class_synset

# ImageNet-1k classes by WordNet id: Chihuahua, tabby cat, airliner, mountain bike
IMAGENET = ['n02085620', 'n02123045', 'n02690373', 'n03792782']


def test_class_synsets_from_ids_and_names():
    assert class_synset('n02085620').name() == 'chihuahua.n.03'
    assert class_synset('dog.n.01').name() == 'dog.n.01'
    with pytest.raises(ValueError, match='n99999999'):
        class_synset('n99999999')


def test_hyponym_mapping_on_imagenet_ids():
    mapper = NounClassMapper(IMAGENET)
    # a Chihuahua is a dog (dog.n.01 is among its hypernyms), a tabby a cat; both animals
    assert mapper.classes_of_noun('dog') == (0,)
    assert mapper.classes_of_noun('cat') == (1,)
    assert mapper.classes_of_noun('animal') == (0, 1)
    # an airliner is an aircraft, a mountain bike a bicycle; both are vehicles
    assert mapper.classes_of_noun('aircraft') == (2,)
    assert mapper.classes_of_noun('bicycle') == (3,)
    assert mapper.classes_of_noun('vehicle') == (2, 3)
    assert mapper.classes_of_noun('idea') == ()  # not a visual category


def test_phrases_and_unmatched_counts():
    mapper = NounClassMapper(['circle', 'oval', 'heart', 'star'], match='name')
    assert mapper.classes_of_phrase('a red circle') == [0]
    assert mapper.classes_of_phrase('hearts') == [2]  # the shape, by its name
    assert mapper.classes_of_phrase('two ovals') == [1]  # by name only: not the circle
    assert mapper.classes_of_phrase('a checkered scene') == []
    assert mapper.classes_of_phrase('the scene') == []
    assert mapper.unmatched == {'scene': 2}
    # WordNet's hyponymy: a circle is an ellipse, which is the first sense of "oval"
    assert NounClassMapper(['circle', 'oval']).classes_of_noun('oval') == (0, 1)
    with pytest.raises(ValueError):
        NounClassMapper(['circle'], match='synonym')
