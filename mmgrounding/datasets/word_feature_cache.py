"""The word-feature cache: InfoGround's frozen contextual word features, one entry per caption.

Layout (written by ``tools/cache_word_features.py``)::

    <cache>/
      meta.json                   # format, encoder, tokenizer, features, negatives; counts
      captions/<caption_id>.npz   # one entry per caption (numpy .npz, uncompressed)

An entry holds, for the L WordPiece tokens of the (truncated) caption, [CLS] and [SEP]
included, and, when the cache was made with a negatives file, the M words of the caption that
have substitutes (N substitutes in all):

    caption_id            ()      str, the caption id (checked against the file name)
    caption               ()      str, the caption text (checked against the sample's)
    token_offsets         (L, 2)  int32, character offsets in the caption, end exclusive;
                                  (0, 0) for [CLS] and [SEP]
    token_feats           (L, D)  float16 or float32 (``features.dtype``), the frozen
                                  encoder's last hidden state
    negative_words        (M,)    int32, word indices into ``word_tokenize(caption)``
    negative_counts       (M,)    int32, how many substitutes each word has (>= 1)
    negative_substitutes  (N,)    str, the substitutes, grouped by word in that order
    negative_feats        (N, D)  the feature of each substitute's first WordPiece in the
                                  caption where it replaces the word

This is what :meth:`InfoGroundGrounder.caption_word_features` computes online. Words whose
tokens were cut off by ``max_text_length`` have no substitutes here.

``meta.json`` holds the settings, which must be equal for a run to resume into the folder:
``encoder`` (type and sha256 of the encoder's weights), ``tokenizer`` (sha256 of the fast
tokenizer's serialisation: vocabulary, lower-casing, special tokens), ``features``
(``max_text_length``, ``dtype``, ``dim``) and ``negatives`` (sha256 of the negatives file, or
None); and, for people, ``sources`` (the ``pretrained`` folder and negatives file names, not
compared: a moved or renamed copy of the same files resumes). Entries are written to a
temporary file and renamed into place (an entry that exists is complete), and reads check the
zip CRC-32 of every array, the shapes, the caption id and text; a bad entry is named in a
:class:`WordFeatureCacheError`.
"""
import hashlib
import json
import os.path as osp
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import torch

from mmgrounding.utils.hashing import file_sha256

from .npz_cache import NpzCache

CACHE_FORMAT = 'mmgrounding-word-feature-cache-v1'
TOKEN_FIELDS = ('caption_id', 'caption', 'token_offsets', 'token_feats')
NEGATIVE_FIELDS = ('negative_words', 'negative_counts', 'negative_substitutes', 'negative_feats')
# meta keys that must agree when a run resumes into an existing cache
SETTINGS_KEYS = ('format', 'encoder', 'tokenizer', 'features', 'negatives')
DTYPES = ('float16', 'float32')


class WordFeatureCacheError(ValueError):
    """A word-feature cache entry or its metadata is missing, corrupt or inconsistent.

    The message names the file (and the caption id).
    """


# ---------------------------------------------------------------------- settings
def state_dict_sha256(module: torch.nn.Module) -> str:
    """sha256 over the names, dtypes, shapes and values of a module's state dict."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        array = tensor.detach().cpu().contiguous()
        digest.update(f'{name}:{array.dtype}:{tuple(array.shape)};'.encode())
        digest.update(array.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def tokenizer_sha256(tokenizer) -> str:
    """sha256 of a Hugging Face fast tokenizer: vocabulary, normaliser (lower-casing, accents),
    pre-tokeniser and special tokens; the transient truncation and padding state is left out.
    """
    state = json.loads(tokenizer.backend_tokenizer.to_str())
    state.pop('truncation', None)
    state.pop('padding', None)
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()


def word_cache_settings(text_encoder: torch.nn.Module,
                        tokenizer,
                        *,
                        pretrained: str | None,
                        max_text_length: int,
                        dtype: str,
                        negatives_file: str | None) -> dict:
    """The settings of a cache (the keys of ``meta.json`` compared on resume).

    Args:
        text_encoder: the frozen word encoder (e.g. ``InfoGroundGrounder.text_encoder``)
            with its final weights (after ``init_weights``).
        tokenizer: its fast tokenizer.
        pretrained: the encoder's ``pretrained`` folder (its name is recorded in
            ``sources``; the weights are identified by their hash).
        max_text_length: captions are truncated to this many tokens.
        dtype: ``'float16'`` or ``'float32'``, how features are stored.
        negatives_file: the negatives cache of ``tools/generate_negatives.py``, or None
            (identified by its hash; its name is recorded in ``sources``).
    """
    if dtype not in DTYPES:
        raise ValueError(f'dtype must be one of {DTYPES}, got {dtype!r}')
    dim = getattr(text_encoder, 'hidden_size', None)
    return dict(
        encoder=dict(type=type(text_encoder).__name__,
                     weights_sha256=state_dict_sha256(text_encoder)),
        tokenizer=dict(sha256=tokenizer_sha256(tokenizer)),
        features=dict(max_text_length=int(max_text_length), dtype=dtype,
                      dim=None if dim is None else int(dim)),
        negatives=None if negatives_file is None else dict(
            sha256=file_sha256(negatives_file)),
        sources=dict(  # not compared on resume
            pretrained=osp.basename(osp.normpath(pretrained)) if pretrained else None,
            negatives_file=osp.basename(negatives_file) if negatives_file else None))


# ---------------------------------------------------------------------- entries
def check_entry(entry: Mapping[str, np.ndarray], *, where: str, dim: int | None,
                with_negatives: bool) -> None:
    """Raise :class:`WordFeatureCacheError` (naming ``where``) if the arrays do not fit.

    Args:
        entry: an entry's arrays.
        where: the entry's file and caption id, for the message.
        dim: the feature size D every feature must have (None: not checked).
        with_negatives: the negative fields must be present.
    """
    required = TOKEN_FIELDS + (NEGATIVE_FIELDS if with_negatives else ())
    missing = [k for k in required if k not in entry]
    if missing:
        raise WordFeatureCacheError(f'{where}: missing fields {missing}')
    offsets, feats = entry['token_offsets'], entry['token_feats']
    if offsets.ndim != 2 or offsets.shape[1] != 2:
        raise WordFeatureCacheError(f'{where}: token_offsets has shape {offsets.shape}, '
                                    'expected (L, 2)')
    if feats.ndim != 2 or len(feats) != len(offsets):
        raise WordFeatureCacheError(f'{where}: token_feats has shape {feats.shape}, expected '
                                    f'({len(offsets)}, D) like token_offsets')
    dim = feats.shape[1] if dim is None else dim
    if feats.shape[1] != dim:
        raise WordFeatureCacheError(f'{where}: token_feats has size {feats.shape[1]}, the '
                                    f'cache {dim}')
    arrays = ['token_feats']
    if with_negatives:
        words, counts = entry['negative_words'], entry['negative_counts']
        subs, sub_feats = entry['negative_substitutes'], entry['negative_feats']
        if words.ndim != 1 or counts.shape != words.shape:
            raise WordFeatureCacheError(f'{where}: negative_words {words.shape} and '
                                        f'negative_counts {counts.shape} must be (M,)')
        if (counts < 1).any():
            raise WordFeatureCacheError(f'{where}: a word has no substitutes ({counts})')
        total = int(counts.sum())
        if subs.shape != (total, ) or sub_feats.shape != (total, dim):
            raise WordFeatureCacheError(
                f'{where}: negative_substitutes {subs.shape} and negative_feats '
                f'{sub_feats.shape}, expected ({total},) and ({total}, {dim}) for the '
                f'counts {counts.tolist()}')
        arrays.append('negative_feats')
    for key in arrays:
        if not np.isfinite(entry[key]).all():
            raise WordFeatureCacheError(f'{where}: {key} has non-finite values')


class WordFeatureCache(NpzCache):
    """A folder of per-caption word-feature entries (see the module docstring for the layout).

    ``WordFeatureCache(root)`` opens a cache (:class:`WordFeatureCacheError` if ``root`` holds
    none), :meth:`create` makes one. meta.json, entry files, resuming and CRC-checked reads
    are :class:`~mmgrounding.datasets.npz_cache.NpzCache`'s.
    """

    FORMAT = CACHE_FORMAT
    SETTINGS_KEYS = SETTINGS_KEYS
    ENTRY_DIR = 'captions'
    ENTRY_KIND = 'caption'
    NAME = 'word-feature cache'
    WRITER = 'tools/cache_word_features.py'
    MISSING_HINT = 'caption not cached; run tools/cache_word_features.py'
    REWRITE_HINT = 'run tools/cache_word_features.py again'
    error = WordFeatureCacheError

    @property
    def has_negatives(self) -> bool:
        """Whether the cache was made with a negatives file (entries hold substitutes)."""
        return self.meta.get('negatives') is not None

    @property
    def dtype(self) -> str:
        return self.meta['features']['dtype']

    @property
    def dim(self) -> int | None:
        return self.meta['features'].get('dim')

    @property
    def captions_dir(self) -> str:
        """``<root>/captions``, the folder of the entries."""
        return self.entries_dir

    @classmethod
    def create(cls, root: str, settings: dict, *, resume: bool = True) -> 'WordFeatureCache':
        """Open ``root`` for writing, creating it with ``settings`` when it has no cache yet.

        Args:
            root: the cache folder.
            settings: :func:`word_cache_settings` (and anything else to record);
                ``format`` is added.
            resume: when ``root`` already holds a cache, keep its entries if its settings
                equal these (else raise); with False an existing cache raises.

        Raises:
            WordFeatureCacheError: the existing cache was made with other settings; the
                message lists the differences.
        """
        if settings.get('features', {}).get('dtype') not in DTYPES:
            raise ValueError(f"settings['features']['dtype'] must be one of {DTYPES}")
        return super().create(root, settings, resume=resume)

    def caption_ids(self) -> list[str]:
        """The ids of all entries, sorted as strings (unfinished writes excluded)."""
        return self._entry_ids()

    def write(self, caption_id: object, entry: Mapping[str, object]) -> str:
        """Write one caption's entry atomically; returns its path.

        Args:
            caption_id: the caption id.
            entry: ``caption``, ``token_offsets`` (L, 2), ``token_feats`` (L, D) and, in a
                cache with negatives, ``negative_words`` (M,), ``negative_counts`` (M,),
                ``negative_substitutes`` (N strings) and ``negative_feats`` (N, D) (arrays or
                tensors); features are stored in the cache's dtype, ``caption_id`` is added.

        Raises:
            WordFeatureCacheError: the arrays do not fit together, or the negative fields
                are given to a cache without negatives or missing from one with them.
        """
        caption_id = str(caption_id)
        where = self._where(caption_id, writing=True)
        given_negatives = [k for k in NEGATIVE_FIELDS if k in entry]
        if given_negatives and not self.has_negatives:
            raise WordFeatureCacheError(f'{where}: {given_negatives} given, but the cache was '
                                        'made without a negatives file')
        if self.has_negatives and len(given_negatives) < len(NEGATIVE_FIELDS):
            raise WordFeatureCacheError(
                f'{where}: the cache was made with a negatives file, but the entry has no '
                f'{sorted(set(NEGATIVE_FIELDS) - set(given_negatives))}')
        arrays = dict(
            caption_id=np.asarray(caption_id), caption=np.asarray(str(entry['caption'])),
            token_offsets=_numpy(entry['token_offsets']).astype(np.int32).reshape(-1, 2),
            token_feats=_numpy(entry['token_feats']).astype(self.dtype))
        if self.has_negatives:
            dim = arrays['token_feats'].shape[1]
            arrays.update(
                negative_words=_numpy(entry['negative_words']).astype(np.int32).reshape(-1),
                negative_counts=_numpy(entry['negative_counts']).astype(np.int32).reshape(-1),
                negative_substitutes=np.array([str(s) for s in entry['negative_substitutes']],
                                              dtype=str),
                negative_feats=_numpy(entry['negative_feats']).astype(self.dtype).reshape(
                    -1, dim))
        check_entry(arrays, where=where, dim=self.dim, with_negatives=self.has_negatives)
        return self._save(caption_id, arrays)

    def read(self,
             caption_id: object,
             *,
             caption: str | None = None,
             with_negatives: bool = True) -> dict[str, np.ndarray]:
        """Read a caption's entry, checking its integrity.

        Args:
            caption_id: the caption id.
            caption: the sample's caption; the stored one must equal it.
            with_negatives: also read the negative fields (the cache must have them).

        Returns:
            The entry's arrays (features in the cache's dtype).

        Raises:
            WordFeatureCacheError: the entry is missing, truncated, corrupt (CRC-32
                mismatch), belongs to another caption id or text, or its arrays do not fit
                together; ``with_negatives`` on a cache made without a negatives file. The
                message names the file and the caption id.
        """
        caption_id = str(caption_id)
        where = self._where(caption_id)
        if with_negatives and not self.has_negatives:
            raise WordFeatureCacheError(
                f'{self.meta_path}: the cache was made without a negatives file; make it with '
                '--negatives or read it with with_negatives=False')
        fields = TOKEN_FIELDS + (NEGATIVE_FIELDS if with_negatives else ())
        with self._open_entry(caption_id) as npz:
            entry = {k: npz[k] for k in fields if k in npz.files}
        if 'caption_id' in entry and str(entry['caption_id']) != caption_id:
            raise WordFeatureCacheError(f"{where}: holds caption {entry['caption_id']}")
        check_entry(entry, where=where, dim=self.dim, with_negatives=with_negatives)
        if caption is not None and str(entry['caption']) != caption:
            raise WordFeatureCacheError(
                f"{where}: cached for the caption {str(entry['caption'])!r}, but the sample's "
                f'is {caption!r} (a cache of another captions file?)')
        return entry

    def verify(self, caption_ids: Iterable[object] | None = None) -> list[tuple[str, str]]:
        """Read every entry (or ``caption_ids``); returns ``(caption_id, error)`` of the bad."""
        return self._verify(caption_ids,
                            lambda i: self.read(i, with_negatives=self.has_negatives))


def _numpy(value: object) -> np.ndarray:
    """A tensor (any device) or array-like as a numpy array."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def pad_substitutes(counts: Sequence[int], feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group the N substitute features of M words into a padded (M, K, D) array.

    Args:
        counts: (M,) substitutes of each word, in the order of ``feats``.
        feats: (N, D) features, N = sum(counts).

    Returns:
        ``(padded, mask)``: (M, K, D) features, zero after each word's count, K the largest
        count (0 when M = 0), and the (M, K) bool mask of real substitutes.
    """
    counts = np.asarray(counts, dtype=np.int64)
    width = int(counts.max()) if len(counts) else 0
    mask = np.arange(width)[None, :] < counts[:, None]  # (M, K)
    padded = np.zeros((len(counts), width, feats.shape[1]), feats.dtype)
    padded[mask] = feats  # row-major: word by word, substitutes in order
    return padded, mask
