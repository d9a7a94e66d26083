"""An example plugin of mmgrounding: a package outside ``mmgrounding`` that registers a new
loss in mmgrounding's MODELS registry (docs/compose.md, recipe (d)).

Importing the package registers its components; configs do so with
``custom_imports = dict(imports=['example_plugin'], allow_failed_imports=False)`` while
``projects/example_plugin`` is on ``PYTHONPATH``.
"""
from .losses import FocalInfoGroundImageLoss, focal_infoground_image_loss

__all__ = ['FocalInfoGroundImageLoss', 'focal_infoground_image_loss']
