"""Deprecated alias of :mod:`mmgrounding.models.grounders` (renamed after 0.1.0; goes in 0.3.0).

``import mmgrounding.models.groundingers.<module>`` keeps working for one release and warns
once; the modules are the same objects as those under ``grounders``, so registrations and
``isinstance`` checks are unaffected.
"""
import importlib
import sys
import warnings

from mmgrounding.models import grounders as _grounders
from mmgrounding.models.grounders import *  # noqa: F401,F403

warnings.warn(
    'mmgrounding.models.groundingers was renamed to mmgrounding.models.grounders; '
    'the old name goes in 0.3.0', DeprecationWarning, stacklevel=2)

_SUBMODULES = ('albef', 'base', 'baselines', 'ckd', 'infoground', 'utils', 'word_batch')
for _name in _SUBMODULES:
    sys.modules[f'{__name__}.{_name}'] = importlib.import_module(f'{_grounders.__name__}.{_name}')

__all__ = _grounders.__all__
