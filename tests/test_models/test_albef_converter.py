"""The official ALBEF layout converts into ALBEFGrounder's names and loads."""
import re

import torch

from mmgrounding.models.converters import convert_albef_state_dict
from mmgrounding.registry import MODELS

from .albef_tiny import tiny_albef_cfg, write_vocab


def to_official(state_dict: dict, text_layers: int) -> dict:
    """Write a state dict in the official ALBEF layout (independently of the converter)."""
    official = {}
    for key, value in state_dict.items():
        if key == 'idx_queue':
            continue  # not in the official checkpoints
        if key.startswith('image_encoder_m.'):
            key = 'visual_encoder_m.' + key[len('image_encoder_m.'):]
        elif key.startswith('image_encoder.'):
            key = 'visual_encoder.' + key[len('image_encoder.'):]
        elif key.startswith('fusion.layers.'):
            index, rest = re.match(r'fusion\.layers\.(\d+)\.(.*)', key).groups()
            key = f'text_encoder.bert.encoder.layer.{int(index) + text_layers}.{rest}'
        elif key.startswith('mlm_head.'):
            key = 'text_encoder.cls.' + key[len('mlm_head.'):]
        official[key] = value.clone()
    # official extras without a place here: teacher fusion layer and teacher MLM head
    official[f'text_encoder_m.bert.encoder.layer.{text_layers}.output.dense.bias'] = \
        torch.zeros(32)
    official['text_encoder_m.cls.predictions.bias'] = torch.zeros(18)
    return official


def test_round_trip_loads_every_key(tmp_path):
    vocab = write_vocab(tmp_path / 'vocab.txt')
    source = MODELS.build(tiny_albef_cfg(vocab))
    official = to_official(source.state_dict(), text_layers=1)
    assert 'text_encoder.bert.encoder.layer.1.crossattention.self.query.weight' in official
    converted, dropped = convert_albef_state_dict(official, text_layers=1)
    assert sorted(dropped) == ['text_encoder_m.bert.encoder.layer.1.output.dense.bias',
                               'text_encoder_m.cls.predictions.bias']
    target = MODELS.build(tiny_albef_cfg(vocab))
    result = target.load_state_dict(converted, strict=False)
    assert result.unexpected_keys == []
    assert result.missing_keys == ['idx_queue']
    for key, value in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[key], value)


def test_position_embedding_interpolation_on_conversion(tmp_path):
    vocab = write_vocab(tmp_path / 'vocab.txt')
    source = MODELS.build(tiny_albef_cfg(vocab))  # 32 px, 8 px patches: 4x4 grid
    official = to_official(source.state_dict(), text_layers=1)
    converted, _ = convert_albef_state_dict(official, text_layers=1, grid_hw=(6, 6))
    assert converted['image_encoder.pos_embed'].shape == (1, 1 + 36, 32)
    # the class token's embedding is kept as it is
    torch.testing.assert_close(converted['image_encoder.pos_embed'][:, 0],
                               official['visual_encoder.pos_embed'][:, 0])
