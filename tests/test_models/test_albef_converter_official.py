"""The ALBEF converter against the official ALBEF-base layout.

``tests/fixtures/albef_base_official_keys.json`` lists the 844 state-dict keys of the official
pre-training model (``ALBEF.pth``) with their shapes, written down from the public model code
(salesforce/ALBEF models/model_pretrain.py, models/vit.py, models/xbert.py,
configs/config_bert.json, configs/Pretrain.yaml; the file says which part gives which key),
not from the converter. The state dict is made of meta tensors (no memory), converted with
:func:`convert_albef_state_dict` and compared with an ``ALBEFGrounder`` built from
``configs/_base_/models/albef_base.py`` on the meta device.
"""

import json
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

from mmgrounding.models.converters import convert_albef_state_dict
from mmgrounding.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FIXTURE = osp.join(REPO, 'tests', 'fixtures', 'albef_base_official_keys.json')
BASE_CONFIG = osp.join(REPO, 'configs', '_base_', 'models', 'albef_base.py')
# bert-base-uncased's config, as data/bert-base-uncased/config.json gives it
BERT_BASE = dict(
    vocab_size=30522,
    hidden_size=768,
    num_attention_heads=12,
    intermediate_size=3072,
    max_position_embeddings=512,
    type_vocab_size=2,
)


def official_shapes() -> dict[str, tuple[int, ...]]:
    with open(FIXTURE, encoding='utf-8') as f:
        return {k: tuple(v) for k, v in json.load(f)['keys'].items()}


def official_state_dict() -> dict[str, torch.Tensor]:
    return {k: torch.empty(shape, device='meta') for k, shape in official_shapes().items()}


@pytest.fixture(scope='module')
def albef_base_shapes(tmp_path_factory) -> dict[str, tuple[int, ...]]:
    """State-dict shapes of the ALBEF-base grounder (``albef_base.py``, bert-base sizes)."""
    vocab = tmp_path_factory.mktemp('vocab') / 'vocab.txt'
    vocab.write_text('\n'.join(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'shape']))
    cfg = Config.fromfile(BASE_CONFIG).model
    cfg.text_encoder = dict(type='BertTextEncoder', config=BERT_BASE, num_layers=6)
    cfg.fusion.config = dict(cfg.fusion.config, **BERT_BASE)
    cfg.tokenizer = dict(vocab_file=str(vocab))
    with torch.device('meta'):
        model = MODELS.build(cfg)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def test_fixture_is_albef_base():
    shapes = official_shapes()
    assert len(shapes) == 844
    # 12 ViT blocks, 12 BERT layers of which 6 (6-11) have cross-attention, in both copies
    for prefix in ('visual_encoder', 'visual_encoder_m'):
        assert {
            int(m.group(1)) for k in shapes if (m := re.match(rf'{prefix}\.blocks\.(\d+)\.', k))
        } == set(range(12))
    for prefix in ('text_encoder', 'text_encoder_m'):
        assert {
            int(m.group(1))
            for k in shapes
            if (m := re.match(rf'{prefix}\.bert\.encoder\.layer\.(\d+)\.crossattention', k))
        } == set(range(6, 12))
    assert shapes['visual_encoder.pos_embed'] == (1, 257, 768)  # 256 px / 16 -> 16 x 16 + cls
    assert shapes['image_queue'] == (256, 65536)


def test_official_keys_convert_to_the_albef_base_grounder(albef_base_shapes):
    official = official_state_dict()
    converted, dropped = convert_albef_state_dict(official, text_layers=6)

    # dropped: the momentum text encoder's fusion layers and MLM head (the teacher here has no
    # fusion layers), and the two BERT position_ids buffers (constants, not parameters; the
    # official checkpoint holds them, loading them reported unexpected keys); nothing else
    teacher_only = {
        k
        for k in official
        if re.match(r'text_encoder_m\.bert\.encoder\.layer\.([6-9]|1[01])\.', k)
        or k.startswith('text_encoder_m.cls.')
    }
    assert len(teacher_only) == 6 * 26 + 7
    position_ids = {k for k in official if k.endswith('embeddings.position_ids')}
    assert position_ids == {
        'text_encoder.bert.embeddings.position_ids',
        'text_encoder_m.bert.embeddings.position_ids',
    }
    assert set(dropped) == teacher_only | position_ids
    assert len(converted) + len(dropped) == len(official)

    # every converted key is a key of the grounder with the official shape; the grounder's
    # only keys the checkpoint cannot give are the image ids of its queue (and position_ids,
    # a constant buffer, when the converter drops it)
    unexpected = sorted(set(converted) - set(albef_base_shapes))
    assert unexpected == []
    missing = set(albef_base_shapes) - set(converted)
    assert missing - {k for k in albef_base_shapes if k.endswith('position_ids')} == {'idx_queue'}
    wrong = {
        k: (tuple(v.shape), albef_base_shapes[k])
        for k, v in converted.items()
        if tuple(v.shape) != albef_base_shapes[k]
    }
    assert wrong == {}


@pytest.mark.parametrize(
    'official_key, expected',
    [
        # ViT: the official (timm) names are kept under image_encoder(_m)
        ('visual_encoder.blocks.11.attn.qkv.weight', 'image_encoder.blocks.11.attn.qkv.weight'),
        ('visual_encoder.patch_embed.proj.weight', 'image_encoder.patch_embed.proj.weight'),
        ('visual_encoder.cls_token', 'image_encoder.cls_token'),
        ('visual_encoder_m.norm.bias', 'image_encoder_m.norm.bias'),
        # BERT layers 0-5 stay in the text encoder, 6-11 become fusion layers 0-5
        (
            'text_encoder.bert.encoder.layer.5.attention.self.query.weight',
            'text_encoder.bert.encoder.layer.5.attention.self.query.weight',
        ),
        (
            'text_encoder.bert.encoder.layer.6.attention.self.query.weight',
            'fusion.layers.0.attention.self.query.weight',
        ),
        # AMC explains the 3rd fusion cross-attention (block 8 of 12)
        (
            'text_encoder.bert.encoder.layer.8.crossattention.self.key.weight',
            'fusion.layers.2.crossattention.self.key.weight',
        ),
        (
            'text_encoder.bert.encoder.layer.11.output.LayerNorm.bias',
            'fusion.layers.5.output.LayerNorm.bias',
        ),
        (
            'text_encoder_m.bert.encoder.layer.0.intermediate.dense.weight',
            'text_encoder_m.bert.encoder.layer.0.intermediate.dense.weight',
        ),
        (
            'text_encoder.bert.embeddings.word_embeddings.weight',
            'text_encoder.bert.embeddings.word_embeddings.weight',
        ),
        ('text_encoder.cls.predictions.decoder.weight', 'mlm_head.predictions.decoder.weight'),
        (
            'text_encoder.cls.predictions.transform.LayerNorm.weight',
            'mlm_head.predictions.transform.LayerNorm.weight',
        ),
        ('itm_head.weight', 'itm_head.weight'),
        ('temp', 'temp'),
        ('text_proj_m.bias', 'text_proj_m.bias'),
        ('queue_ptr', 'queue_ptr'),
    ],
)
def test_official_names_map_to_the_grounder_names(official_key, expected):
    official = official_state_dict()
    converted, _ = convert_albef_state_dict(official, text_layers=6)
    assert converted[expected] is official[official_key]  # renamed, the tensor untouched


def test_position_embeddings_are_resized_to_another_resolution():
    # 384 px / 16 = 24 x 24 patches; the official 16 x 16 grid is interpolated (real tensors
    # for these two keys: bicubic interpolation is computed)
    official = {
        'visual_encoder.pos_embed': torch.randn(1, 257, 768),
        'visual_encoder_m.pos_embed': torch.randn(1, 257, 768),
    }
    converted, dropped = convert_albef_state_dict(official, text_layers=6, grid_hw=(24, 24))
    assert dropped == []
    for key in ('image_encoder.pos_embed', 'image_encoder_m.pos_embed'):
        assert converted[key].shape == (1, 1 + 24 * 24, 768)
    torch.testing.assert_close(
        converted['image_encoder.pos_embed'][:, 0], official['visual_encoder.pos_embed'][:, 0]
    )
