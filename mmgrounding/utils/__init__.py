from .compat import load_local_checkpoint, register_checkpoint_loader
from .dist_utils import finish_distributed, needs_cpu_distributed, setup_cpu_distributed
from .setup_env import register_all_modules

__all__ = [
    'load_local_checkpoint', 'register_checkpoint_loader', 'needs_cpu_distributed',
    'finish_distributed',
    'setup_cpu_distributed', 'register_all_modules'
]
