import mmdet.engine  # noqa: F401 (mmdet's hooks register when ours do)

from .hooks import *  # noqa: F401,F403
from .model_wrapper import InferenceWrapper
from .optim_wrapper import CPUAmpOptimWrapper, autocast_dtype, use_amp_testing, use_amp_training

__all__ = [
    'CPUAmpOptimWrapper',
    'InferenceWrapper',
    'autocast_dtype',
    'use_amp_testing',
    'use_amp_training',
]
