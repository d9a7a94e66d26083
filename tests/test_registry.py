"""Every component mmgrounding registers builds from a config."""
import json
import os
import os.path as osp
from pathlib import Path

import pytest
import torch

from mmgrounding import registry
from tests.test_models.albef_tiny import tiny_albef_cfg, write_vocab
from tests.test_models.camwsvg_tiny import camwsvg_build_args
from tests.test_models.ckd_tiny import tiny_ckd_cfg
from tests.test_models.reir_tiny import reir_build_args

REGISTRIES = {
    name: getattr(registry, name)
    for name in ('DATASETS', 'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS', 'METRICS', 'HOOKS',
                 'VISUALIZERS', 'VISBACKENDS', 'TASK_UTILS', 'DATA_SAMPLERS', 'EVALUATOR',
                 'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
                 'PARAM_SCHEDULERS', 'LOOPS')
}


def referit_berkeley_root(synthground_root):
    """A one-query ReferIt split in the Berkeley JSON files, next to SynthGround."""
    root = osp.join(synthground_root, 'referit_berkeley')
    os.makedirs(root, exist_ok=True)
    for name, obj in (('referit_query_test.json', {'1000_1': ['sky']}),
                      ('referit_bbox.json', {'1000_1': [0, 0, 19, 4]}),
                      ('referit_imsize.json', {'1000': [20, 10]})):
        with open(osp.join(root, name), 'w') as f:
            json.dump(obj, f)
    return root


def build_args(synthground_root):
    """Arguments each registered component needs; a new component must be added here."""
    return {
        'Flickr30kEntitiesDataset': dict(
            data_root=synthground_root, ann_file='flickr30k_entities/test.txt',
            data_prefix=dict(img='images/', annotations='flickr30k_entities/Annotations/',
                             sentences='flickr30k_entities/Sentences/')),
        'VisualGenomeTripletDataset': dict(
            data_root=synthground_root, ann_file='vg/', data_prefix=dict(img='')),
        'CocoCaptionsDataset': dict(
            data_root=synthground_root, ann_file='coco/annotations/captions_test.json',
            data_prefix=dict(img='images/')),
        'Flickr30kCaptionsDataset': dict(
            data_root=synthground_root, ann_file='flickr30k_entities/test.txt',
            data_prefix=dict(img='images/', sentences='flickr30k_entities/Sentences/')),
        'RefCOCODataset': dict(
            data_root=synthground_root, ann_file='refcoco/instances.json',
            refs_file='refcoco/refs(unc).p', split='testA', data_prefix=dict(img='images/')),
        'ReferItGameDataset': dict(
            data_root=synthground_root, ann_file='refcoco/instances.json',
            refs_file='refcoco/refs(unc).p', split='val', data_prefix=dict(img='images/')),
        'ReferItBerkeleyDataset': dict(
            data_root=referit_berkeley_root(synthground_root),
            ann_file='referit_query_test.json', bbox_file='referit_bbox.json',
            imsize_file='referit_imsize.json'),
        'GroundingVisualizer': dict(name='test_build_visualizer'),
        'GradCAMExplainer': dict(target_layer='fusion.layers.0.crossattention.self'),
        'ALBEFGrounder': {k: v for k, v in tiny_albef_cfg(write_vocab(
            Path(synthground_root) / 'test_vocab.txt')).items() if k != 'type'},
        'InferenceWrapper': dict(module=registry.MODELS.build(
            dict(type='CentreBaselineGrounder'))),
        # the cache is opened on first use
        'LoadRegionFeatures': dict(cache_dir=osp.join(synthground_root, 'regions')),
        'LoadWordFeatures': dict(cache_dir=osp.join(synthground_root, 'words')),
        'LoadTeacherClassProbs': dict(cache_dir=osp.join(synthground_root, 'teacher')),
        'LoadCaptionNegatives': dict(
            negatives_file=osp.join(synthground_root, 'negatives.json')),  # read on first use
        'LoadParaphrases': dict(
            paraphrases_file=osp.join(synthground_root, 'paraphrases.json')),  # read on first use
        'SelfEQGrounder': {k: v for k, v in tiny_albef_cfg(write_vocab(
            Path(synthground_root) / 'test_vocab.txt'), amc_loss=None).items() if k != 'type'},
        'CKDGrounder': {k: v for k, v in tiny_ckd_cfg(write_vocab(
            Path(synthground_root) / 'test_vocab.txt')).items() if k != 'type'},
        'LSTMPhraseEncoder': dict(vocab_file=write_vocab(
            Path(synthground_root) / 'test_vocab.txt')),
        'EmbeddingBranch': dict(in_dim=4),
        'ProgressReportHook': dict(file=osp.join(synthground_root, 'progress.jsonl')),
        'CPUAmpOptimWrapper': dict(
            optimizer=torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)),
        'InfoGroundGrounder': dict(
            text_encoder=dict(type='BertTextEncoder', num_layers=1, config=dict(
                vocab_size=32, hidden_size=16, num_attention_heads=2, intermediate_size=32)),
            tokenizer=dict(vocab_file=write_vocab(Path(synthground_root) / 'test_vocab.txt')),
            attention=dict(type='WordRegionAttention', region_dim=6, word_dim=16, embed_dim=8)),
        **reir_build_args(write_vocab(Path(synthground_root) / 'test_vocab.txt')),
        **camwsvg_build_args(write_vocab(Path(synthground_root) / 'test_vocab.txt')),
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
