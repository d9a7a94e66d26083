"""Every component mmgrounding registers builds from a config."""
import pytest

from mmgrounding import registry

REGISTRIES = {
    name: getattr(registry, name)
    for name in ('DATASETS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS', 'METRICS', 'HOOKS',
                 'VISUALIZERS', 'VISBACKENDS', 'TASK_UTILS', 'DATA_SAMPLERS', 'EVALUATOR',
                 'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
                 'PARAM_SCHEDULERS', 'LOOPS')
}


def build_args(synthground_root):
    """Arguments each registered component needs; a new component must be added here."""
    return {
        'Flickr30kEntitiesDataset': dict(
            data_root=synthground_root, ann_file='flickr30k_entities/test.txt',
            data_prefix=dict(img='images/', annotations='flickr30k_entities/Annotations/',
                             sentences='flickr30k_entities/Sentences/')),
        'GroundingVisualizer': dict(name='test_build_visualizer'),
        'InferenceWrapper': dict(module=registry.MODELS.build(
            dict(type='CentreBaselineGrounder'))),
    }


def registered():
    for reg_name, reg in REGISTRIES.items():
        for name in sorted(reg.module_dict):
            yield reg_name, name


def test_registries_are_children_of_mmdet():
    for name, reg in REGISTRIES.items():
        assert reg.scope == 'mmgrounding'
        # model wrappers hang from mmengine's root, where the runner looks them up
        assert reg.parent.scope == ('mmengine' if name == 'MODEL_WRAPPERS' else 'mmdet')


@pytest.mark.parametrize('reg_name,name', list(registered()))
def test_build_registered_component(reg_name, name, synthground_root):
    args = build_args(synthground_root).get(name, {})
    obj = REGISTRIES[reg_name].build(dict(type=name, **args))
    assert type(obj).__name__ == name
