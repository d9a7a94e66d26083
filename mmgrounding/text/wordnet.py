"""WordNet 3.0 through nltk, found without configuration: lemmas, senses and hypernyms.

CKD's phrase-to-class rule, which also needs the tagger and the head noun, is in
:mod:`mmgrounding.text.class_match`; this module imports nothing of the package, so the
tagger (:mod:`.pos`) and :mod:`.head_noun` can build on it.

nltk's downloader cannot reach its server from every machine, so ``tools/setup_wordnet.sh``
(run by ``make setup``) copies Debian's WordNet files into an nltk data root of the project's
cache. :func:`get_wordnet` prefers a WordNet that nltk finds on its own (``nltk.data.path``,
``NLTK_DATA``) and otherwise adds the first of these roots that holds ``corpora/wordnet``:

1. ``$MMGROUNDING_NLTK_DATA``, when set;
2. ``${MMGROUNDING_CACHE:-${XDG_CACHE_HOME:-~/.cache}/mmgrounding}/nltk_data``, the script's
   default destination.
"""

import functools
import os
import os.path as osp
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

if TYPE_CHECKING:
    from nltk.corpus.reader.wordnet import Synset, WordNetCorpusReader

NLTK_DATA_ENV = 'MMGROUNDING_NLTK_DATA'
_INSTALL_HINT = (
    'Install it with `make setup`, or `bash tools/setup_wordnet.sh DIR` and '
    f'`export {NLTK_DATA_ENV}=DIR`.'
)


def wordnet_search_roots() -> List[str]:
    """The nltk data roots searched after nltk's own, in order.

    Returns:
        ``$MMGROUNDING_NLTK_DATA`` (when set) and the default root of
        ``tools/setup_wordnet.sh``.
    """
    cache = os.environ.get('MMGROUNDING_CACHE') or osp.join(
        os.environ.get('XDG_CACHE_HOME') or osp.expanduser(osp.join('~', '.cache')), 'mmgrounding'
    )
    roots = [os.environ.get(NLTK_DATA_ENV), osp.join(cache, 'nltk_data')]
    return [osp.abspath(osp.expanduser(root)) for root in roots if root]


@functools.cache
def get_wordnet() -> 'WordNetCorpusReader':
    """nltk's WordNet corpus reader, loaded (about two seconds the first time, then cached).

    Returns:
        ``nltk.corpus.wordnet``, loaded from nltk's own data or from the first root of
        :func:`wordnet_search_roots` that holds ``corpora/wordnet`` (added to
        ``nltk.data.path``).

    Raises:
        ImportError: nltk is not installed.
        LookupError: no WordNet was found; the message names the places searched and how to
            install one.
    """
    try:
        import nltk
    except ImportError as err:  # a runtime requirement; say which one is missing
        raise ImportError('mmgrounding.text needs nltk: pip install "nltk>=3.8"') from err
    from nltk.corpus import wordnet

    try:
        wordnet.ensure_loaded()
        return wordnet
    except LookupError:
        pass
    searched = list(nltk.data.path)
    for root in wordnet_search_roots():
        if osp.isfile(osp.join(root, 'corpora', 'wordnet', 'lexnames')):
            if root not in nltk.data.path:
                nltk.data.path.append(root)
            wordnet.ensure_loaded()
            return wordnet
        searched.append(root)
    raise LookupError(
        'WordNet (nltk corpus "corpora/wordnet") was not found. Searched nltk\'s data path and '
        f'the mmgrounding roots: {", ".join(searched)}. {_INSTALL_HINT}'
    )


@functools.cache
def _noun_exceptions() -> Dict[str, Tuple[str, ...]]:
    """Irregular noun forms of WordNet's ``noun.exc`` ("men" -> ("man",))."""
    exceptions = {}
    with get_wordnet().open('noun.exc') as fp:
        for line in fp:
            form, *lemmas = line.split()
            exceptions[form] = tuple(lemmas)
    return exceptions


def _wordnet_key(text: str) -> str:
    """WordNet spells collocations with underscores: "traffic light" -> "traffic_light"."""
    return '_'.join(text.lower().replace('_', ' ').split())


def _lemma_text(name: str) -> str:
    """A WordNet lemma name as a phrase: "Traffic_light" -> "traffic light"."""
    return name.replace('_', ' ').lower()


@functools.lru_cache(maxsize=65536)
def lemmatize_noun(word: str) -> str:
    """The dictionary form of a noun ("spectators" -> "spectator", "men" -> "man").

    Irregular plurals of WordNet's exception list win over the form itself ("men" is also a
    WordNet lemma, "the men of a company"); otherwise a form WordNet knows as a noun stays as
    it is ("glasses", "shorts"), unless it never occurs in WordNet's tagged corpora while its
    singular is common ("hearts" -> "heart"); anything else takes the most frequent of
    ``morphy``'s forms ("crosses" -> "cross", not "crosse").

    Args:
        word: one word or a collocation ("traffic lights").

    Returns:
        The lemma with spaces between the words of a collocation; ``word`` (lower-cased)
        itself when WordNet does not know it as a noun.
    """
    wordnet = get_wordnet()
    key = _wordnet_key(word)
    for lemma in _noun_exceptions().get(key, ()):
        if wordnet.synsets(lemma, pos='n'):
            return _lemma_text(lemma)
    candidates = wordnet._morphy(key, 'n')  # every form WordNet's rules reach, key first
    if not candidates:
        return _lemma_text(key)
    reduced = [c for c in candidates if c != key]
    if key in candidates:
        # A plural-only lemma never seen in the tagged corpora ("hearts", the card game)
        # whose singular is common is read as the plural; "glasses", "shorts", "stairs"
        # and "woods" keep their own sense.
        best = max(reduced, key=_noun_count, default=None)
        if best is not None and _noun_count(key) == 0 and _noun_count(best) >= 10:
            return _lemma_text(best)
        return _lemma_text(key)
    # Several reductions: the most frequent ("crosses" -> "cross", not "crosse", a lacrosse
    # stick); ties keep the order of WordNet's rules.
    return _lemma_text(max(candidates, key=_noun_count))


def _noun_count(lemma: str) -> int:
    """How often ``lemma`` is tagged as a noun in WordNet's sense-tagged corpora."""
    return sum(item.count() for synset in get_wordnet().synsets(lemma, pos='n')
               for item in synset.lemmas() if item.name().lower() == lemma)


def lemma_synsets(word: str, *, pos: str = 'n') -> List['Synset']:
    """The synsets of ``word`` (after ``morphy``), most frequent sense first.

    Args:
        word: a word or collocation ("traffic light").
        pos: WordNet part of speech: 'n', 'v', 'a' (with satellites) or 'r'.

    Returns:
        Synsets in WordNet's order, which ranks the senses of a lemma by their frequency in
        the tagged corpora; empty when WordNet does not know the word.
    """
    return get_wordnet().synsets(_wordnet_key(word), pos=pos)


def most_frequent_synset(word: str, *, pos: str = 'n') -> Optional['Synset']:
    """The first (most frequent) sense of ``word``, or None when WordNet does not know it.

    Args:
        word: a word or collocation.
        pos: WordNet part of speech.

    Returns:
        A synset such as ``Synset('sweater.n.01')``.
    """
    if pos == 'n':
        word = lemmatize_noun(word)
    synsets = lemma_synsets(word, pos=pos)
    return synsets[0] if synsets else None


def _hypernym_levels(synset: 'Synset') -> List[List[str]]:
    """Lemma names of the hypernyms of ``synset``, one list per distance (parents first)."""
    levels: List[List[str]] = []
    seen = {synset}
    frontier = [synset]
    while frontier:
        parents = []
        for node in frontier:
            # nltk keeps pointers in a set, so its order changes between processes: sort.
            for parent in sorted(node.hypernyms() + node.instance_hypernyms()):
                if parent not in seen:
                    seen.add(parent)
                    parents.append(parent)
        if parents:
            levels.append(
                [_lemma_text(name) for parent in parents for name in parent.lemma_names()]
            )
        frontier = parents
    return levels


def hypernym_closure_names(synset: 'Synset') -> List[str]:
    """Lemma names of every hypernym of ``synset``, nearest first.

    Both class hypernyms and instance hypernyms are followed, breadth first, so that the
    lemmas of a parent come before those of a grandparent; parents of one synset are taken
    in the order of their names, which makes the result the same in every process.

    Args:
        synset: any synset.

    Returns:
        Distinct lemma names with spaces ("motor vehicle"), lower-case, without the lemmas of
        ``synset`` itself.
    """
    names: List[str] = []
    for level in _hypernym_levels(synset):
        for name in level:
            if name not in names:
                names.append(name)
    return names


def lexname(word: str, *, pos: str = 'n') -> Optional[str]:
    """The lexicographer file of the most frequent sense of ``word``.

    Args:
        word: a word or collocation.
        pos: WordNet part of speech.

    Returns:
        A name such as 'noun.artifact', 'noun.person' or 'noun.animal'; None when WordNet
        does not know the word.
    """
    synset = most_frequent_synset(word, pos=pos)
    return synset.lexname() if synset is not None else None
