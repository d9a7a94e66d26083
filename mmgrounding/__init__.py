from .utils.compat import register_checkpoint_loader
from .version import __version__, version_info

# mmengine's local checkpoint loader predates torch 2.6's weights_only default; replace it
# through mmengine's own extension point so that ``load_from`` and ``resume`` work.
register_checkpoint_loader()

__all__ = ['__version__', 'version_info']
