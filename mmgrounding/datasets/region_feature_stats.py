"""Mean and standard deviation of the region features of a cache split (CKD normalises by them)."""
import numpy as np

from .region_cache import RegionCache


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
    return mean, std
