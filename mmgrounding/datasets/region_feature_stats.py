"""Mean and standard deviation of the region features of a cache split (CKD normalises by them).

The statistics are computed once per (split, topk) and stored in the cache as
``stats/<split>-top<k|all>.npz`` (written atomically), so building a model again (for testing,
in every process of a distributed run) reads one small file instead of the whole split. A
stored file is used only while the split still lists the same images.
"""
import hashlib
import os.path as osp

import numpy as np

from mmgrounding.utils.atomic import atomic_open

from .region_cache import RegionCache


def _ids_digest(ids: list[str]) -> str:
    return hashlib.sha256('\n'.join(ids).encode()).hexdigest()


def region_feature_stats(cache_dir: str, *, split: str = 'train',
                         topk: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and standard deviation over all regions of ``split``.

    Args:
        cache_dir: a region cache (``docs/proposals.md``).
        split: the cache split whose images are used (``splits/<split>.txt``); the training
            split, so evaluation never informs the normalisation.
        topk: use the best ``topk`` regions of each image, as the model reads them.

    Returns:
        (D,) float64 mean and (D,) float64 standard deviation (at least 1e-6).
    """
    cache = RegionCache(cache_dir)
    ids = cache.split_ids(split)
    if not ids:
        raise ValueError(f'{cache_dir}: split {split!r} lists no image')
    digest = _ids_digest(ids)
    stats_path = osp.join(cache_dir, 'stats', f"{split}-top{topk or 'all'}.npz")
    if osp.isfile(stats_path):
        with np.load(stats_path, allow_pickle=False) as stored:
            if str(stored['ids_sha256']) == digest:
                return stored['mean'], stored['std']
    total = total_sq = None
    count = 0
    for img_id in ids:
        feats = cache.read(img_id, fields=('features', ), topk=topk)['features'].astype(np.float64)
        if total is None:
            total, total_sq = np.zeros(feats.shape[1]), np.zeros(feats.shape[1])
        total += feats.sum(axis=0)
        total_sq += (feats**2).sum(axis=0)
        count += feats.shape[0]
    mean = total / count
    std = np.sqrt(np.maximum(total_sq / count - mean**2, 0)).clip(min=1e-6)
    with atomic_open(stats_path, 'wb') as f:
        np.savez(f, mean=mean, std=std, ids_sha256=np.asarray(digest), num_regions=count)
    return mean, std
