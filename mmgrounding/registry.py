"""mmgrounding's registries, children of mmdet's.

Configs set ``default_scope='mmgrounding'``; a name that mmgrounding does not register
(``LoadImageFromFile``, ``FasterRCNN``, ``Resize``) resolves through the parent chain
(mmdet, then mmengine).
"""
from mmdet.registry import DATA_SAMPLERS as MMDET_DATA_SAMPLERS
from mmdet.registry import DATASETS as MMDET_DATASETS
from mmdet.registry import EVALUATOR as MMDET_EVALUATOR
from mmdet.registry import HOOKS as MMDET_HOOKS
from mmdet.registry import LOOPS as MMDET_LOOPS
from mmdet.registry import METRICS as MMDET_METRICS
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMDET_OPTIM_WRAPPER_CONSTRUCTORS
from mmdet.registry import OPTIM_WRAPPERS as MMDET_OPTIM_WRAPPERS
from mmdet.registry import OPTIMIZERS as MMDET_OPTIMIZERS
from mmdet.registry import PARAM_SCHEDULERS as MMDET_PARAM_SCHEDULERS
from mmdet.registry import TASK_UTILS as MMDET_TASK_UTILS
from mmdet.registry import TRANSFORMS as MMDET_TRANSFORMS
from mmdet.registry import VISBACKENDS as MMDET_VISBACKENDS
from mmdet.registry import VISUALIZERS as MMDET_VISUALIZERS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import Registry

# Data
DATASETS = Registry('dataset', parent=MMDET_DATASETS, locations=['mmgrounding.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMDET_DATA_SAMPLERS, locations=['mmgrounding.datasets'])
TRANSFORMS = Registry(
    'transform', parent=MMDET_TRANSFORMS, locations=['mmgrounding.datasets.transforms'])

# Models
MODELS = Registry('model', parent=MMDET_MODELS, locations=['mmgrounding.models'])
# mmengine's runner looks wrapper types up in its root registry, which searches only its
# direct children by scope; mmdet registers no wrappers, so this one hangs from the root.
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, locations=['mmgrounding.engine'])
TASK_UTILS = Registry('task util', parent=MMDET_TASK_UTILS, locations=['mmgrounding.models'])

# Evaluation
METRICS = Registry('metric', parent=MMDET_METRICS, locations=['mmgrounding.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMDET_EVALUATOR, locations=['mmgrounding.evaluation'])

# Engine
HOOKS = Registry('hook', parent=MMDET_HOOKS, locations=['mmgrounding.engine.hooks'])
LOOPS = Registry('loop', parent=MMDET_LOOPS, locations=['mmgrounding.engine'])
OPTIMIZERS = Registry('optimizer', parent=MMDET_OPTIMIZERS, locations=['mmgrounding.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMDET_OPTIM_WRAPPERS, locations=['mmgrounding.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMDET_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmgrounding.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler', parent=MMDET_PARAM_SCHEDULERS, locations=['mmgrounding.engine'])

# Visualisation
VISUALIZERS = Registry(
    'visualizer', parent=MMDET_VISUALIZERS, locations=['mmgrounding.visualization'])
VISBACKENDS = Registry(
    'vis_backend', parent=MMDET_VISBACKENDS, locations=['mmgrounding.visualization'])
