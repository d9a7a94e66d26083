from .compat import (
    UntrustedCheckpointError,
    load_local_checkpoint,
    register_checkpoint_loader,
    set_trust_checkpoints,
    trust_checkpoints,
)
from .dist_utils import finish_distributed, needs_cpu_distributed, setup_cpu_distributed
from .setup_env import register_all_modules

__all__ = [
    'load_local_checkpoint', 'register_checkpoint_loader', 'needs_cpu_distributed',
    'set_trust_checkpoints', 'trust_checkpoints', 'UntrustedCheckpointError',
    'finish_distributed',
    'setup_cpu_distributed', 'register_all_modules'
]
