"""Deterministic language utilities for the grounding methods.

Word tokens, coarse part-of-speech tags (InfoGround's noun and adjective tokens), head nouns
and their WordNet mapping to detector classes (CKD), and relation phrases between entities
(ReIR). Nothing here imports torch; WordNet comes from nltk (see :func:`get_wordnet`).
"""

from .class_match import match_phrase_to_classes
from .head_noun import head_noun, head_noun_index
from .pos import TAGS, tag_words
from .relations import relation_phrases
from .tokenize import word_tokenize, word_tokenize_with_spans
from .vocab import build_word_vocab, read_word_vocab, write_word_vocab
from .wordnet import (
    get_wordnet,
    hypernym_closure_names,
    lemma_synsets,
    lemmatize_noun,
    lexname,
    most_frequent_synset,
    wordnet_search_roots,
)

__all__ = [
    'TAGS',
    'build_word_vocab',
    'get_wordnet',
    'head_noun',
    'head_noun_index',
    'hypernym_closure_names',
    'lemma_synsets',
    'lemmatize_noun',
    'lexname',
    'match_phrase_to_classes',
    'most_frequent_synset',
    'read_word_vocab',
    'relation_phrases',
    'tag_words',
    'word_tokenize',
    'word_tokenize_with_spans',
    'wordnet_search_roots',
    'write_word_vocab',
]
