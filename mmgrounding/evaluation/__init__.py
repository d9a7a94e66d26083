import mmdet.evaluation  # noqa: F401 (mmdet's metrics register when ours do)

from .functional import *  # noqa: F401,F403
from .metrics import *  # noqa: F401,F403
