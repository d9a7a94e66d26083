"""Paraphrases of short phrases for SelfEQ: from WordNet, or from a local language model.

SelfEQ (He et al., CVPR 2024) asks Vicuna-13B for synonyms and equivalent rewordings of each
training phrase. Without a hub, :func:`wordnet_paraphrases` rewrites a phrase by replacing
its head noun with a synonym or a hypernym of its most frequent sense, and its adjectives
with synonyms of their most frequent sense ("a red circle" -> "a red ellipse", "a crimson
circle", "a crimson ellipse"). :func:`lm_paraphrases` prompts any local causal or
sequence-to-sequence model through transformers, the paper's path for those who have one.
The cache format is read by :func:`read_paraphrases`.
"""

import json
import re
import zlib
from typing import Dict, List, Optional, Sequence

from .head_noun import head_noun_index
from .pos import tag_words
from .tokenize import word_tokenize
from .wordnet import lemma_synsets, lemmatize_noun, most_frequent_synset

PARAPHRASES_FORMAT = 'mmgrounding-paraphrases-v1'
DEFAULT_PROMPT = (
    'Rewrite the phrase with synonyms, keeping its meaning.\nPhrase: {phrase}\nRewrite:'
)
_WORD_RE = re.compile(r"^[a-z][a-z' -]*$")


def normalize_text(text: str) -> str:
    """The key of a text in a paraphrase cache: lower case, single spaces."""
    return ' '.join(str(text).lower().split())


def pluralize(noun: str) -> str:
    """English plural of a noun by the regular rules ("box" -> "boxes", "berry" -> "berries")."""
    words = noun.split(' ')
    last = words[-1]
    if re.search(r'(s|x|z|ch|sh)$', last):
        last += 'es'
    elif re.search(r'[^aeiou]y$', last):
        last = last[:-1] + 'ies'
    else:
        last += 's'
    return ' '.join(words[:-1] + [last])


def _lemma_words(names: Sequence[str], exclude: str) -> List[str]:
    """WordNet lemma names as lower-case words, without ``exclude`` and odd spellings."""
    out = []
    for name in names:
        text = name.replace('_', ' ').lower()
        if text != exclude and _WORD_RE.match(text) and text not in out:
            out.append(text)
    return out


def noun_substitutes(word: str, *, hypernyms: bool = True, max_hypernyms: int = 2) -> List[str]:
    """Synonyms, then hypernyms, of the most frequent sense of a noun, in the word's number.

    Args:
        word: a noun as it occurs ("circles" gives plural substitutes).
        hypernyms: add lemma names of the sense's direct hypernyms (the first two of the
            first hypernym synset).
        max_hypernyms: at most this many hypernym words.
    """
    lemma = lemmatize_noun(word)
    synset = most_frequent_synset(lemma)
    if synset is None:
        return []
    subs = _lemma_words(synset.lemma_names(), lemma)
    if hypernyms:
        for hyper in synset.hypernyms()[:1]:
            subs += [
                w for w in _lemma_words(hyper.lemma_names(), lemma)[:max_hypernyms] if w not in subs
            ]
    if lemma != word.lower():  # the phrase has the plural
        subs = [pluralize(s) for s in subs]
    return subs


def adjective_substitutes(word: str) -> List[str]:
    """Synonyms of the most frequent adjective sense of ``word`` ("large" -> "big")."""
    synsets = lemma_synsets(word, pos='a')
    if not synsets:
        return []
    return _lemma_words(synsets[0].lemma_names(), word.lower())


def wordnet_paraphrases(
    phrase: str,
    *,
    max_paraphrases: int = 5,
    hypernyms: bool = True,
    vocabulary: Optional[set] = None,
) -> List[str]:
    """Paraphrases of ``phrase`` by WordNet substitution of its head noun and adjectives.

    Order: each head-noun substitute alone, then each adjective substitute alone, then the
    first head-noun substitute with the first substitute of every adjective; duplicates and
    the phrase itself are dropped.

    Args:
        phrase: a short noun phrase or caption.
        max_paraphrases: keep at most this many.
        hypernyms: also use the head noun's hypernyms (a more general name).
        vocabulary: when given, only substitutes all of whose words are in it (e.g. the
            words of the training texts, so that a small tokenizer knows them).

    Returns:
        Lower-case paraphrases, possibly none (no noun or adjective WordNet knows).
    """
    words = [w.lower() for w in word_tokenize(phrase)]
    if not words:
        return []
    tags = tag_words(words)

    def allowed(subs: List[str]) -> List[str]:
        if vocabulary is None:
            return subs
        return [s for s in subs if all(w in vocabulary for w in s.split())]

    head = head_noun_index(words, tags)
    options: Dict[int, List[str]] = {}
    if head is not None and tags[head] == 'NOUN':
        options[head] = allowed(noun_substitutes(words[head], hypernyms=hypernyms))
    for i, tag in enumerate(tags):
        # "next" in "next to" is tagged ADJ but belongs to the preposition
        if tag == 'ADJ' and i != head and words[i + 1 : i + 2] != ['to']:
            options[i] = allowed(adjective_substitutes(words[i]))
    options = {i: subs for i, subs in options.items() if subs}

    def replaced(changes: Dict[int, str]) -> str:
        return ' '.join(changes.get(i, w) for i, w in enumerate(words))

    candidates = []
    if head in options:
        candidates += [replaced({head: s}) for s in options[head]]
    for i, subs in options.items():
        if i != head:
            candidates += [replaced({i: s}) for s in subs]
    if len(options) > 1:
        candidates.append(replaced({i: subs[0] for i, subs in options.items()}))
    original = ' '.join(words)
    out = []
    for text in candidates:
        if text != original and text not in out:
            out.append(text)
    return out[:max_paraphrases]


def lm_paraphrases(
    model,
    tokenizer,
    phrase: str,
    *,
    num: int = 3,
    seed: int = 0,
    prompt: str = DEFAULT_PROMPT,
    max_new_tokens: int = 16,
) -> List[str]:
    """Paraphrases of ``phrase`` sampled from a local causal or sequence-to-sequence LM.

    The prompt (``{phrase}`` replaced) is sampled ``num`` times (top-p 0.9), seeded by
    ``seed`` and the phrase, so a run is reproducible; the first line of each continuation,
    stripped of quotes and final punctuation, is a paraphrase. Empty results and the phrase
    itself are dropped.
    """
    import torch

    inputs = tokenizer(prompt.format(phrase=phrase), return_tensors='pt')
    torch.manual_seed(seed * 1000003 + zlib.crc32(phrase.encode()))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    with torch.no_grad():
        generated = model.generate(
            **inputs,
            do_sample=True,
            top_p=0.9,
            num_return_sequences=num,
            max_new_tokens=max_new_tokens,
            pad_token_id=pad,
        )
    if not model.config.is_encoder_decoder:  # keep the continuation only
        generated = generated[:, inputs['input_ids'].shape[1] :]
    original = normalize_text(phrase)
    out = []
    for text in tokenizer.batch_decode(generated, skip_special_tokens=True):
        lines = text.strip().splitlines()
        text = normalize_text(lines[0].strip(' "\'.')) if lines else ''
        if text and text != original and text not in out:
            out.append(text)
    return out


def read_paraphrases(path: str) -> Dict[str, List[str]]:
    """``{normalised text: [paraphrases]}`` from a cache of ``tools/generate_paraphrases.py``.

    The file is JSON: ``{"format": "mmgrounding-paraphrases-v1", "settings": {...},
    "paraphrases": {text: [paraphrase, ...]}, "counts": {...}}``; texts are keyed by
    :func:`normalize_text`.

    Raises:
        ValueError: the file is not such a cache (the message names it).
    """
    with open(path, encoding='utf-8') as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f'{path}: not JSON ({e})') from e
    if not isinstance(data, dict) or data.get('format') != PARAPHRASES_FORMAT:
        raise ValueError(f'{path}: not a paraphrase cache (format {PARAPHRASES_FORMAT!r})')
    table = data.get('paraphrases')
    if not isinstance(table, dict):
        raise ValueError(f'{path}: "paraphrases" must map texts to lists')
    out = {}
    for text, paraphrases in table.items():
        if not isinstance(paraphrases, list) or not all(isinstance(p, str) for p in paraphrases):
            raise ValueError(f'{path}: the paraphrases of {text!r} are not a list of strings')
        out[normalize_text(text)] = paraphrases
    return out
