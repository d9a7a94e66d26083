# A small CAM-WSVG for SynthGround on a CPU: ResNet-18 at base width 16 on 128 px (F3-F5 at
# 16x16, 8x8, 4x4), C_p = 64, a 2-layer BERT of width 64 over SynthGround's WordPiece
# vocabulary, and the frozen CAM classifier of
# configs/camwsvg/cam-classifier_r18_1xb32-20e_synthground.py (ResNet-18 at base width 8
# without the stem's max pooling, global max pooling; its Grad-CAM at layer4, 8x8).
# Interpretations (docs/methods/camwsvg.md): the CAM tokens carry sine positions, the [REG]
# tokens start from the pooled query, the detector candidates are fusion tokens, and the
# self-taught target adds the CAM map's agreement with each candidate to its attention.
# the classifier's classes: `_base_.synthground_classes`, the default build's (v2) 60 categories
_base_ = ['../datasets/synthground_v2_categories.py']

dim = 64
bert = dict(
    vocab_size=1024,  # >= a SynthGround vocabulary (train_vocab: <= 1000); unused rows stay unused
    hidden_size=64,
    num_attention_heads=4,
    intermediate_size=128,
    max_position_embeddings=64,
)
resnet = dict(type='ResNet', depth=18, base_channels=16, norm_cfg=dict(type='BN'))
classifier_resnet = dict(resnet, base_channels=8, out_indices=(3,))
model = dict(
    type='CAMWSVGGrounder',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
    ),
    visual_encoder=dict(
        type='MultiLevelVisualEncoder',
        backbone=resnet,
        levels=(3, 4, 5),
        in_channels=(32, 64, 128),
        dim=dim,
        num_heads=4,
        num_groups=8,
    ),
    text_encoder=dict(type='BertTextEncoder', config=bert, num_layers=2),
    tokenizer=dict(vocab_file='data/synthground/vocab.txt'),
    fusion=dict(
        type='RegTokenFusion',
        num_layers=3,
        merge='concat',
        num_heads=4,
        ffn_dim=128,
        dropout=0.1,
        text_reg=True,
    ),
    box_head=dict(type='RegBoxHead', hidden_dim=dim),
    proposal_attention=dict(type='PhraseProposalAttention', region_dim=256),
    phrase_decoder=dict(type='PhraseReconstructionDecoder', embed_dim=64, hidden_dim=128),
    classifier=dict(
        type='CAMClassifier',
        backbone=classifier_resnet,
        in_channels=64,
        pool='max',
        stem_pool=False,
        num_classes=len(_base_.synthground_classes),
        class_names=_base_.synthground_classes,
        checkpoint='data/synthground/camwsvg/cam-classifier_r18-b16.pth',
    ),
    explainer=dict(type='ConvGradCAMExplainer', target_layer='backbone.layer4'),
    cam_encoder=dict(
        type='CAMEncoder', feature_channels=64, num_blocks=2, num_groups=8, positional=True
    ),
    attention_mining_loss=dict(
        type='AttentionMiningLoss', sigma=0.5, omega=10.0, area_weight=0.1, loss_weight=1.0
    ),
    reconstruction_loss=dict(type='PhraseReconstructionLoss', loss_weight=1.0),
    regression_loss=dict(type='RegBoxLoss', loss_weight=0.1, beta=0.02),  # ~L1, as TransVG
    class_match='name',
    proposal_tokens=True,
    cam_target_weight=2.0,
    max_text_length=24,
    regression_switch=0.0,  # LossWeightStaircaseHook turns L_reg on
)
