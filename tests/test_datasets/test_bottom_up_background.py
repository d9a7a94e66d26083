"""The bottom-up import refuses class probabilities whose background column comes first."""

import h5py
import numpy as np
import pytest

from mmgrounding.datasets import RegionCacheError
from mmgrounding.datasets.region_cache import background_first_evidence, import_bottom_up_h5

# 3 boxes, 2 classes + background. Background last: the labels (0, 1, 1) are the argmax of
# the first two columns.
LAST = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.2, 0.5, 0.3]], np.float32)
LABELS = np.array([0, 1, 1], np.int32)


def write(path, class_probs):
    with h5py.File(path, 'w') as h5:
        group = h5.create_group('7')
        group.create_dataset('boxes', data=np.array([[0, 0, 5, 5]] * 3, np.float32))
        group.create_dataset('features', data=np.ones((3, 4), np.float32))
        group.create_dataset('scores', data=np.ones(3, np.float32))
        group.create_dataset('labels', data=LABELS)
        group.create_dataset('class_probs', data=class_probs)


def test_background_order_is_checked(tmp_path):
    first = np.roll(LAST, 1, axis=1)  # [background, class 0, class 1]
    assert not background_first_evidence(LABELS, LAST)
    assert background_first_evidence(LABELS, first)
    write(tmp_path / 'last.h5', LAST)
    cache = import_bottom_up_h5(str(tmp_path / 'last.h5'), str(tmp_path / 'a'))
    np.testing.assert_array_equal(cache.read('7')['class_probs'], LAST)
    write(tmp_path / 'first.h5', first)
    with pytest.raises(
        RegionCacheError,
        match=r"first\.h5: group '7': .*background column "
        r'comes first',
    ):
        import_bottom_up_h5(str(tmp_path / 'first.h5'), str(tmp_path / 'b'))
