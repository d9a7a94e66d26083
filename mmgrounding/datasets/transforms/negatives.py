"""InfoGround's text inputs from its caches: negative substitutes and frozen word features.

:class:`LoadCaptionNegatives` reads the substitutes of a caption's words from the JSON cache
of ``tools/generate_negatives.py``; the grounder then encodes the substituted captions at
every step. :class:`LoadWordFeatures` reads what the frozen encoder gives for the caption
(and, with a negatives file, for each substitute) from the cache of
``tools/cache_word_features.py``, so that the grounder runs no encoder at all.
"""
from collections.abc import Mapping

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import MMLogger

from mmgrounding.datasets.word_feature_cache import WordFeatureCache, pad_substitutes
from mmgrounding.registry import TRANSFORMS
from mmgrounding.text import word_tokenize
from mmgrounding.text.negatives import read_negatives


def _caption_and_id(results: dict, transform: str) -> tuple[object, str]:
    """The sample's ``caption_id`` and ``caption``, with an error naming what is missing."""
    missing = [k for k in ('caption_id', 'caption') if k not in results]
    if missing:
        raise KeyError(f'{transform} needs {missing} in the sample: one caption per item '
                       '(caption datasets with group_by_image=False)')
    return results['caption_id'], results['caption']


def lookup_negatives(entries: Mapping[int, dict], caption_id: object, caption: str, *,
                     source: str) -> dict[int, list[str]] | None:
    """The negatives of one caption in a cache read by :func:`read_negatives`.

    Args:
        entries: ``read_negatives(source)``.
        caption_id: the caption (annotation) id.
        caption: the sample's caption; its words must be the cached ``words``.
        source: the cache file, for messages.

    Returns:
        ``{word index: [substitutes, best first]}`` (words without substitutes left out), or
        None when the caption is not in the cache.

    Raises:
        ValueError: the cached words are not ``word_tokenize(caption)`` (a cache made from
            another captions file); the message names the file, the caption id and both texts.
    """
    try:
        key = int(caption_id)
    except (TypeError, ValueError) as e:
        raise ValueError(f'{source}: caption id {caption_id!r} is not an annotation id') from e
    entry = entries.get(key)
    if entry is None:
        return None
    words = word_tokenize(caption)
    if entry['words'] != words:
        raise ValueError(f"{source}: caption {caption_id} has the words "
                         f"{' '.join(entry['words'])!r} in the cache but {' '.join(words)!r} "
                         'in the sample (a cache made from another captions file?)')
    return {index: list(subs) for index, subs in entry['negatives'].items() if subs}


@TRANSFORMS.register_module()
class LoadCaptionNegatives(BaseTransform):
    """Put a caption's negative substitutes (InfoGround's L_lang) into the sample.

    Adds ``negatives``: ``{word index: [substitute words, best first]}``, word indices into
    ``word_tokenize(caption)``, as :class:`InfoGroundGrounder` reads them from the metainfo
    (:class:`PackGroundingInputs` copies the key). Needs ``caption_id`` (the annotation id the
    cache is keyed by) and ``caption``.

    Args:
        negatives_file: the JSON cache of ``tools/generate_negatives.py``, read once per
            process on first use (:func:`~mmgrounding.text.negatives.read_negatives`).
        max_negatives: keep at most this many substitutes per word (the best); None keeps all.
        missing: a caption that is not in the cache raises (``'raise'``), or gets no
            negatives (``'skip'``): such captions are counted in ``num_missing`` and the first
            one is logged as a warning.
    """

    def __init__(self,
                 negatives_file: str,
                 *,
                 max_negatives: int | None = None,
                 missing: str = 'raise') -> None:
        if missing not in ('raise', 'skip'):
            raise ValueError(f"missing must be 'raise' or 'skip', got {missing!r}")
        if max_negatives is not None and max_negatives < 1:
            raise ValueError(f'max_negatives must be >= 1, got {max_negatives}')
        self.negatives_file = negatives_file
        self.max_negatives = max_negatives
        self.missing = missing
        self.num_missing = 0
        self._entries: dict[int, dict] | None = None  # read on first use, in each process

    @property
    def entries(self) -> dict[int, dict]:
        if self._entries is None:
            self._entries = read_negatives(self.negatives_file)
        return self._entries

    def transform(self, results: dict) -> dict:
        caption_id, caption = _caption_and_id(results, type(self).__name__)
        negatives = lookup_negatives(self.entries, caption_id, caption,
                                     source=self.negatives_file)
        if negatives is None:
            if self.missing == 'raise':
                raise ValueError(f'{self.negatives_file}: no negatives for caption {caption_id} '
                               '(the generation may be incomplete: run '
                               "tools/generate_negatives.py again, or use missing='skip')")
            if self.num_missing == 0:
                MMLogger.get_current_instance().warning(
                    f'{self.negatives_file}: no negatives for caption {caption_id}; captions '
                    'missing from the cache get none (counted in '
                    'LoadCaptionNegatives.num_missing)')
            self.num_missing += 1
            negatives = {}
        results['negatives'] = {index: subs[:self.max_negatives]
                                for index, subs in negatives.items()}
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(negatives_file={self.negatives_file!r}, '
                f'max_negatives={self.max_negatives}, missing={self.missing!r})')


@TRANSFORMS.register_module()
class LoadWordFeatures(BaseTransform):
    """Load a caption's frozen contextual word features from a word-feature cache.

    The cache (``tools/cache_word_features.py``, layout in
    :mod:`mmgrounding.datasets.word_feature_cache`) holds what the grounder's frozen encoder
    gives for the caption and, when made with a negatives file, for each substitute. The
    stored caption must equal the sample's ``caption`` (else an error naming the entry).

    Adds, for the L tokens ([CLS] and [SEP] included) and the M words with substitutes:

    - ``token_feats`` (L, D) in the cache's dtype (float16 or float32; the grounder computes
      in float32) and ``token_offsets`` (L, 2) int64 character offsets, end exclusive;
    - with ``with_negatives``: ``substitute_word_index`` (M,) int64 word indices into
      ``word_tokenize(caption)``, ``substitute_counts`` (M,) int64 and ``substitute_feats``
      (M, K, D), each word's substitute features (its first WordPiece in the substituted
      caption) padded with zeros to the largest count K.

    :class:`PackGroundingInputs` packs them as ``tokens`` and ``substitutes``; the grounder
    then needs no ``negatives`` in the metainfo.

    Args:
        cache_dir: the cache folder.
        with_negatives: also load the substitutes (the cache must have been made with
            ``--negatives``).
        max_negatives: keep at most this many substitutes per word (the best); None keeps all.
    """

    def __init__(self,
                 cache_dir: str,
                 *,
                 with_negatives: bool = True,
                 max_negatives: int | None = None) -> None:
        if max_negatives is not None and max_negatives < 1:
            raise ValueError(f'max_negatives must be >= 1, got {max_negatives}')
        self.cache_dir = cache_dir
        self.with_negatives = with_negatives
        self.max_negatives = max_negatives
        self._cache: WordFeatureCache | None = None  # opened on first use, in each worker

    @property
    def cache(self) -> WordFeatureCache:
        if self._cache is None:
            self._cache = WordFeatureCache(self.cache_dir)
        return self._cache

    def transform(self, results: dict) -> dict:
        caption_id, caption = _caption_and_id(results, type(self).__name__)
        entry = self.cache.read(caption_id, caption=caption, with_negatives=self.with_negatives)
        results['token_feats'] = entry['token_feats']
        results['token_offsets'] = entry['token_offsets'].astype(np.int64)
        if self.with_negatives:
            counts = entry['negative_counts'].astype(np.int64)
            padded, _ = pad_substitutes(counts, entry['negative_feats'])  # (M, K, D)
            if self.max_negatives is not None:  # the best come first
                counts = np.minimum(counts, self.max_negatives)
                padded = padded[:, :self.max_negatives]
            results['substitute_word_index'] = entry['negative_words'].astype(np.int64)
            results['substitute_counts'] = counts
            results['substitute_feats'] = padded
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(cache_dir={self.cache_dir!r}, '
                f'with_negatives={self.with_negatives}, max_negatives={self.max_negatives})')
