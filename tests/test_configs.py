"""Every config under configs/ loads, and every ``type`` it names is registered.

The configs themselves are not built (paper-scale ones need checkpoints and datasets that
are not here); this catches a renamed class, a misspelt transform or a broken ``_base_``.
"""
import glob
import os.path as osp

import mmcv.ops
import pytest
from mmengine import registry as mmengine_registry
from mmengine.config import Config

from mmgrounding import registry

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                                            recursive=True))
# registries a config's ``type`` may refer to, with their mmdet/mmengine parents
REGISTRIES = [
    registry.MODELS, registry.DATASETS, registry.TRANSFORMS, registry.DATA_SAMPLERS,
    registry.METRICS, registry.EVALUATOR, registry.HOOKS, registry.LOOPS, registry.OPTIMIZERS,
    registry.OPTIM_WRAPPERS, registry.OPTIM_WRAPPER_CONSTRUCTORS, registry.PARAM_SCHEDULERS,
    registry.VISUALIZERS, registry.VISBACKENDS, registry.MODEL_WRAPPERS, registry.TASK_UTILS,
    mmengine_registry.LOG_PROCESSORS, mmengine_registry.WEIGHT_INITIALIZERS
]


def types_in(node, path=''):
    """(path, type name) of every dict with a string ``type`` in a config tree."""
    if isinstance(node, dict):
        if isinstance(node.get('type'), str):
            yield path or '<root>', node['type']
        for key, value in node.items():
            yield from types_in(value, f'{path}.{key}' if path else str(key))
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from types_in(value, f'{path}[{index}]')


def is_registered(name: str) -> bool:
    # RoI layers and NMS are looked up in mmcv.ops by name, not in a registry
    return any(r.get(name) is not None for r in REGISTRIES) or hasattr(mmcv.ops, name)


def test_configs_are_found():
    assert len(CONFIGS) > 20
    assert 'configs/amc/albef_vg.py' in CONFIGS


@pytest.mark.parametrize('path', CONFIGS)
def test_config_loads_and_names_registered_types(path):
    cfg = Config.fromfile(osp.join(ROOT, path))
    found = list(types_in(cfg.to_dict()))
    missing = [f'{where}: {name}' for where, name in found if not is_registered(name)]
    assert not missing, f'{path} names unregistered types: {missing}'
    if not path.startswith('configs/_base_/'):
        assert 'model' in cfg, f'{path} has no model'


def test_an_unregistered_type_is_reported():
    assert is_registered('LoadRegionFeatures') and is_registered('Adam')
    assert not is_registered('LoadRegionFeaturez') and not is_registered('RoIAlignz')
