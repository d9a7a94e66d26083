import mmdet.models  # noqa: F401 (mmdet's models register when ours do)

from .groundingers import *  # noqa: F401,F403
