import mmdet.models  # noqa: F401 (mmdet's models register when ours do)

from .backbones import *  # noqa: F401,F403
from .explainers import *  # noqa: F401,F403
from .fusion import *  # noqa: F401,F403
from .grounders import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .text_encoders import *  # noqa: F401,F403
