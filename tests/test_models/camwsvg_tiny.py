"""A tiny CAM-WSVG config and a synthetic batch (images, proposals, phrases) for the tests."""

import torch
from mmengine.structures import InstanceData

from mmgrounding.structures import GroundingDataSample

from .albef_tiny import write_vocab

SHAPES = ['circle', 'square', 'star']
__all__ = ['SHAPES', 'camwsvg_build_args', 'tiny_batch', 'tiny_camwsvg_cfg', 'write_vocab']


def tiny_resnet(base: int = 4) -> dict:
    return dict(type='ResNet', depth=18, base_channels=base, norm_cfg=dict(type='BN'))


def tiny_camwsvg_cfg(vocab_file: str, *, cam: bool = True, am: bool = True, **overrides) -> dict:
    bert = dict(
        vocab_size=64,
        hidden_size=16,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    cfg = dict(
        type='CAMWSVGGrounder',
        visual_encoder=dict(
            type='MultiLevelVisualEncoder',
            backbone=tiny_resnet(),
            levels=(3, 4, 5),
            in_channels=(8, 16, 32),
            dim=16,
            num_heads=2,
            num_groups=4,
        ),
        text_encoder=dict(type='BertTextEncoder', config=bert, num_layers=1),
        tokenizer=dict(vocab_file=vocab_file),
        fusion=dict(type='RegTokenFusion', num_heads=2, ffn_dim=32, dropout=0.0),
        box_head=dict(type='RegBoxHead', hidden_dim=16),
        proposal_attention=dict(type='PhraseProposalAttention', region_dim=6),
        phrase_decoder=dict(type='PhraseReconstructionDecoder', embed_dim=8, hidden_dim=16),
        class_match='name',
    )
    if cam:
        cfg.update(
            classifier=dict(
                type='CAMClassifier',
                backbone=dict(tiny_resnet(), out_indices=(3,)),
                in_channels=32,
                num_classes=len(SHAPES),
                class_names=SHAPES,
            ),
            explainer=dict(type='ConvGradCAMExplainer', target_layer='backbone.layer4'),
            cam_encoder=dict(type='CAMEncoder', feature_channels=32, num_blocks=1, num_groups=4),
        )
        if am:
            cfg['attention_mining_loss'] = dict(type='AttentionMiningLoss', area_weight=0.1)
    cfg.update(overrides)
    return cfg


def tiny_batch(num_images: int = 2, *, size: int = 64, num_boxes: int = 5, seed: int = 0):
    """Random normalised images and, per image, phrases (one without a class: "the scene")
    and ``num_boxes`` proposals with 6-d features."""
    gen = torch.Generator().manual_seed(seed)
    images = torch.randn(num_images, 3, size, size, generator=gen)
    samples = []
    phrases = [['a red circle', 'the scene'], ['two small stars', 'a blue square', 'a circle']]
    for i in range(num_images):
        sample = GroundingDataSample(
            metainfo=dict(img_id=i, phrases=phrases[i % 2], ori_shape=(2 * size, size))
        )
        corners = torch.rand(num_boxes, 2, generator=gen) * size * 0.5
        sizes = 4 + torch.rand(num_boxes, 2, generator=gen) * size * 0.4
        sample.proposals = InstanceData(
            bboxes=torch.cat([corners, corners + sizes], dim=1),
            feats=torch.randn(num_boxes, 6, generator=gen),
        )
        samples.append(sample)
    return images, samples


def camwsvg_build_args(vocab_file: str) -> dict:
    """Arguments of CAM-WSVG's registered components for tests/test_registry.py."""
    cfg = tiny_camwsvg_cfg(vocab_file)
    return {
        'CAMWSVGGrounder': {k: v for k, v in cfg.items() if k != 'type'},
        'MultiLevelVisualEncoder': {k: v for k, v in cfg['visual_encoder'].items() if k != 'type'},
        'CAMClassifier': {k: v for k, v in cfg['classifier'].items() if k != 'type'},
        'ConvGradCAMExplainer': dict(target_layer='backbone.layer4'),
        'CAMEncoder': dict(dim=16, num_groups=4),
        'RegTokenFusion': dict(dim=16, num_heads=2),
        'RegBoxHead': dict(in_dim=8),
        'PhraseProposalAttention': dict(query_dim=8, region_dim=6, dim=8),
    }
