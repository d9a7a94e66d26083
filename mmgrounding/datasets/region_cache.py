"""The region cache: detector boxes and region features on disk, one entry per image.

Layout (see ``docs/proposals.md``)::

    <cache>/
      meta.json                 # format, detector, extraction settings, field shapes
      regions/<img_id>.npz      # one entry per image (numpy .npz, uncompressed)
      splits/<split>.txt        # image ids of each extracted split, one a line

An entry holds, for the K ≤ topk boxes kept after NMS, best first:

    img_id       ()        str, the image id (checked against the file name)
    image_hw     (2,)      int32, original image height and width (-1 when unknown)
    boxes_xyxy   (K, 4)    float32, continuous xyxy in original image pixels
    scores       (K,)      float32, detection score
    labels       (K,)      int32, 0-based detector class
    features     (K, D)    float32 or float16, the box's RoI feature (classifier input)
    class_probs  (K, C+1)  optional, softmax over the classes, background last

Every entry is written to a temporary file and renamed into place, so an entry that exists
is complete, and an interrupted extraction resumes by skipping the ids that have an entry.
Reading checks the zip CRC-32 of every array, the shapes and the id, and names the file of
a corrupt or truncated entry in a :class:`RegionCacheError`. Nothing is kept in memory
between reads, so training reads entries from any number of dataloader workers.
"""
import os.path as osp
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from mmgrounding.utils.atomic import atomic_open

# entry_name is imported from here by existing code
from .npz_cache import NpzCache, entry_name  # noqa: F401

CACHE_FORMAT = 'mmgrounding-region-cache-v1'
REQUIRED_FIELDS = ('img_id', 'image_hw', 'boxes_xyxy', 'scores', 'labels', 'features')
OPTIONAL_FIELDS = ('class_probs', )
# meta keys that must agree when an extraction resumes into an existing cache
SETTINGS_KEYS = ('format', 'detector', 'extraction')


class RegionCacheError(ValueError):
    """A region cache entry or its metadata is missing, corrupt or inconsistent.

    The message names the entry file (and image id).
    """


def check_entry(entry: Mapping[str, np.ndarray],
                *,
                where: str,
                required: Sequence[str] = REQUIRED_FIELDS) -> None:
    """Raise :class:`RegionCacheError` (naming ``where``) if the arrays do not fit together.

    Args:
        entry: some or all of an entry's arrays.
        where: the entry's file and image id, for the message.
        required: the fields that must be present.
    """
    missing = [k for k in required if k not in entry]
    if missing:
        raise RegionCacheError(f'{where}: missing fields {missing}')
    boxes = entry['boxes_xyxy']
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise RegionCacheError(f'{where}: boxes_xyxy has shape {boxes.shape}, expected (K, 4)')
    expected_ndim = dict(scores=1, labels=1, features=2, class_probs=2)
    for key, ndim in expected_ndim.items():
        if key in entry and (entry[key].ndim != ndim or entry[key].shape[0] != len(boxes)):
            raise RegionCacheError(f'{where}: {key} has shape {entry[key].shape}, expected '
                                   f'{len(boxes)} rows like boxes_xyxy')
    if 'image_hw' in entry and entry['image_hw'].shape != (2, ):
        raise RegionCacheError(f"{where}: image_hw has shape {entry['image_hw'].shape}")
    for key in ('boxes_xyxy', 'features'):
        if key in entry and not np.isfinite(entry[key]).all():
            raise RegionCacheError(f'{where}: {key} has non-finite values')


class RegionCache(NpzCache):
    """A folder of per-image region entries (see the module docstring for the layout).

    ``RegionCache(root)`` opens a cache (:class:`RegionCacheError` if ``root`` holds none);
    :meth:`create` makes one from ``meta=dict(detector=..., extraction=...)`` and anything
    else to record, and an extraction resumes into it only with equal ``detector`` and
    ``extraction`` settings. meta.json, entry files and CRC-checked reads are
    :class:`~mmgrounding.datasets.npz_cache.NpzCache`'s.
    """

    FORMAT = CACHE_FORMAT
    SETTINGS_KEYS = SETTINGS_KEYS
    ENTRY_DIR = 'regions'
    ENTRY_KIND = 'image'
    NAME = 'region cache'
    WRITER = 'tools/extract_proposals.py'
    MISSING_HINT = 'image not extracted'
    REWRITE_HINT = 'run the extraction again to rewrite it'
    error = RegionCacheError

    @property
    def regions_dir(self) -> str:
        """``<root>/regions``, the folder of the entries."""
        return self.entries_dir

    def image_ids(self) -> list[str]:
        """The ids of all entries, sorted (temporary files of unfinished writes excluded)."""
        return self._entry_ids()

    def write(self, img_id: str, entry: Mapping[str, np.ndarray]) -> str:
        """Write one image's entry atomically; returns its path.

        Args:
            img_id: the image id.
            entry: ``boxes_xyxy``, ``scores``, ``labels``, ``features``, ``image_hw`` and
                optionally ``class_probs`` (arrays or tensors); ``img_id`` is added.
        """
        img_id = str(img_id)
        arrays = {k: np.asarray(v) for k, v in entry.items()
                  if k in REQUIRED_FIELDS + OPTIONAL_FIELDS}
        arrays['img_id'] = np.asarray(img_id)
        arrays['image_hw'] = np.asarray(arrays.get('image_hw', (-1, -1)), np.int32)
        arrays['boxes_xyxy'] = np.asarray(arrays.get('boxes_xyxy'), np.float32).reshape(-1, 4)
        arrays['scores'] = np.asarray(arrays.get('scores'), np.float32).reshape(-1)
        arrays['labels'] = np.asarray(arrays.get('labels'), np.int32).reshape(-1)
        check_entry(arrays, where=self._where(img_id, writing=True))
        return self._save(img_id, arrays)

    def read(self,
             img_id: str,
             *,
             fields: Sequence[str] | None = None,
             topk: int | None = None) -> dict[str, np.ndarray]:
        """Read an image's entry, checking its integrity.

        Args:
            img_id: the image id.
            fields: the arrays to return (default: all stored); ``img_id``,
                ``image_hw`` and ``boxes_xyxy`` are always read, to check the entry.
            topk: keep the first ``topk`` boxes (the entry is sorted best first).

        Raises:
            RegionCacheError: the entry is missing, truncated, corrupt (CRC-32 mismatch),
                belongs to another image, or its arrays do not fit together. The message
                names the file and the image id.
        """
        img_id = str(img_id)
        where = self._where(img_id)
        with self._open_entry(img_id) as npz:
            stored = set(npz.files)
            wanted = stored if fields is None else set(fields) | {
                'img_id', 'image_hw', 'boxes_xyxy'}
            unknown = wanted - stored - set(OPTIONAL_FIELDS)
            if unknown:
                raise RegionCacheError(f'{where}: no fields {sorted(unknown)} (stored: '
                                       f'{sorted(stored)})')
            entry = {k: npz[k] for k in sorted(wanted & stored)}
        if str(entry['img_id']) != img_id:
            raise RegionCacheError(f"{where}: holds image {entry['img_id']}")
        check_entry(entry, where=where,
                    required=REQUIRED_FIELDS if fields is None else sorted(entry))
        if topk is not None:
            entry = {k: (v[:topk] if v.ndim >= 1 and k != 'image_hw' else v)
                     for k, v in entry.items()}
        return entry

    def verify(self, img_ids: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """Read every entry (or ``img_ids``) in full; returns ``(img_id, error)`` of the bad."""
        return self._verify(img_ids, self.read)

    # ------------------------------------------------------------------ splits
    def write_split(self, split: str, img_ids: Sequence[str]) -> None:
        """Record the image ids of a split (``splits/<split>.txt``)."""
        with atomic_open(osp.join(self.root, 'splits', f'{split}.txt'), 'w') as f:
            f.write(''.join(f'{i}\n' for i in img_ids))

    def split_ids(self, split: str) -> list[str]:
        path = osp.join(self.root, 'splits', f'{split}.txt')
        if not osp.isfile(path):
            raise RegionCacheError(f'{path}: split {split!r} was not extracted')
        with open(path, encoding='utf-8') as f:
            return [line.strip() for line in f if line.strip()]


# ---------------------------------------------------------------------- bottom-up HDF5
BOTTOM_UP_KEYS = dict(boxes='boxes_xyxy', features='features', scores='scores',
                      labels='labels')


def background_first_evidence(labels: np.ndarray, class_probs: np.ndarray) -> bool:
    """Whether ``class_probs`` (K, C+1) look like background-first columns.

    The cache keeps the background column last and ``labels`` 0-based over the C classes, so
    ``labels`` should be the argmax of ``class_probs[:, :-1]``. When the argmax of
    ``class_probs[:, 1:]`` (background first, as Faster R-CNN's ``['__background__'] +
    classes`` and the CKD official code order them) agrees with more boxes, the columns are
    in the other order.
    """
    if len(labels) == 0 or class_probs.shape[1] < 2:
        return False
    agree_last = (class_probs[:, :-1].argmax(axis=1) == labels).mean()
    agree_first = (class_probs[:, 1:].argmax(axis=1) == labels).mean()
    return bool(agree_first > agree_last)


def _h5_size(group, name: str) -> int:
    value = group.attrs[name] if name in group.attrs else group[name][()]
    return int(np.asarray(value).reshape(-1)[0])


def import_bottom_up_h5(h5_path: str,
                        cache_root: str,
                        *,
                        feature_dtype: str | None = None,
                        img_ids: Iterable[str] | None = None) -> RegionCache:
    """Read bottom-up attention features from HDF5 into a region cache.

    The layout read is one group per image, named by the image id, holding the datasets
    ``boxes`` (K, 4) xyxy in original image pixels, ``features`` (K, D), ``scores`` (K,) and
    ``labels`` (K,) (0-based class, background excluded), optionally ``class_probs``
    (K, C+1) with background last, and the image size as ``image_h`` / ``image_w``
    attributes or scalar datasets (``image_hw`` is -1, -1 without them). Images that
    already have an entry are skipped, so an interrupted import resumes.

    Args:
        h5_path: the HDF5 file.
        cache_root: the cache folder (created if needed).
        feature_dtype: store features as this dtype (default: as in the file).
        img_ids: import only these images.

    Returns:
        The cache.
    """
    import h5py

    with h5py.File(h5_path, 'r') as h5:
        keys = list(h5.keys()) if img_ids is None else [str(i) for i in img_ids]
        if not keys:
            raise RegionCacheError(f'{h5_path}: no image groups')
        first = h5[keys[0]]
        missing = [k for k in BOTTOM_UP_KEYS if k not in first]
        if missing:
            raise RegionCacheError(f'{h5_path}: group {keys[0]!r} has no datasets {missing} '
                                   f'(has {sorted(first.keys())})')
        dtype = np.dtype(feature_dtype or first['features'].dtype).name
        cache = RegionCache.create(
            cache_root,
            dict(detector=dict(source='bottom-up HDF5', file=osp.basename(h5_path)),
                 extraction=dict(feature_dim=int(first['features'].shape[1]),
                                 feature_dtype=dtype,
                                 box_format='xyxy, original image pixels')))
        cache.remove_stale_temporaries()
        for key in keys:
            if key in cache:
                continue
            if key not in h5:
                raise RegionCacheError(f'{h5_path}: no group for image {key!r}')
            group = h5[key]
            try:
                entry = {ours: group[theirs][()] for theirs, ours in BOTTOM_UP_KEYS.items()}
                if 'class_probs' in group:
                    entry['class_probs'] = group['class_probs'][()]
                    if background_first_evidence(entry['labels'], entry['class_probs']):
                        raise RegionCacheError(
                            f'{h5_path}: group {key!r}: the labels are the argmax of '
                            'class_probs[:, 1:], not of class_probs[:, :-1]: the background '
                            'column comes first; the cache keeps it last (move it with '
                            'np.roll(class_probs, -1, axis=1) when writing the file)')
                if all(n in group.attrs or n in group for n in ('image_h', 'image_w')):
                    entry['image_hw'] = (_h5_size(group, 'image_h'), _h5_size(group, 'image_w'))
            except KeyError as e:
                raise RegionCacheError(f'{h5_path}: group {key!r}: {e}') from e
            entry['features'] = entry['features'].astype(dtype, copy=False)
            cache.write(key, entry)
    cache.update_meta(num_images=len(cache))
    return cache


def export_bottom_up_h5(cache: RegionCache,
                        h5_path: str,
                        *,
                        img_ids: Iterable[str] | None = None) -> None:
    """Write cache entries in the layout :func:`import_bottom_up_h5` reads (atomically)."""
    import h5py

    with atomic_open(h5_path, 'wb') as f:
        with h5py.File(f, 'w') as h5:
            for img_id in (cache.image_ids() if img_ids is None else img_ids):
                entry = cache.read(img_id)
                group = h5.create_group(str(img_id))
                for theirs, ours in BOTTOM_UP_KEYS.items():
                    group.create_dataset(theirs, data=entry[ours])
                if 'class_probs' in entry:
                    group.create_dataset('class_probs', data=entry['class_probs'])
                height, width = (int(v) for v in entry['image_hw'])
                if height > 0:
                    group.attrs['image_h'], group.attrs['image_w'] = height, width
