# CAM-WSVG at paper scale (§3-4): ResNet-50 F3-F5 (ImageNet weights, torchvision's file
# resnet50-0676ba61.pth saved locally), BERT-base (12 layers, data/bert-base-uncased: a
# save_pretrained folder), C_p = 256, the torchvision ImageNet ResNet-50 as the frozen CAM
# classifier (the same file; its 1000 classes are WordNet ids, data/imagenet/
# LOC_synset_mapping.txt), Grad-CAM at layer4, λ_reg = 0.1, λ_rec = λ_am = 1.
dim = 256
resnet50_file = 'data/pretrained/resnet50-0676ba61.pth'
resnet = dict(type='ResNet', depth=50, norm_cfg=dict(type='BN', requires_grad=True))
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
        backbone=dict(resnet, init_cfg=dict(type='Pretrained', checkpoint=resnet50_file)),
        levels=(3, 4, 5),
        in_channels=(512, 1024, 2048),
        dim=dim,
        num_heads=8,
        num_groups=32,
    ),
    text_encoder=dict(type='BertTextEncoder', pretrained='data/bert-base-uncased', num_layers=12),
    tokenizer=dict(name_or_path='data/bert-base-uncased'),
    fusion=dict(
        type='RegTokenFusion',
        num_layers=3,
        merge='concat',
        num_heads=8,
        ffn_dim=2048,
        dropout=0.1,
    ),
    box_head=dict(type='RegBoxHead', hidden_dim=dim, num_fcs=3),
    proposal_attention=dict(type='PhraseProposalAttention', region_dim=2048),
    phrase_decoder=dict(type='PhraseReconstructionDecoder', embed_dim=300, hidden_dim=1024),
    classifier=dict(
        type='CAMClassifier',
        backbone=dict(resnet, out_indices=(3,)),
        in_channels=2048,
        num_classes=1000,
        class_names_file='data/imagenet/LOC_synset_mapping.txt',
        checkpoint=resnet50_file,
        checkpoint_format='torchvision',
    ),
    explainer=dict(type='ConvGradCAMExplainer', target_layer='backbone.layer4'),
    cam_encoder=dict(type='CAMEncoder', feature_channels=2048, num_blocks=2, num_groups=32),
    attention_mining_loss=dict(
        type='AttentionMiningLoss', sigma=0.5, omega=10.0, area_weight=0.1, loss_weight=1.0
    ),
    reconstruction_loss=dict(type='PhraseReconstructionLoss', loss_weight=1.0),
    regression_loss=dict(type='RegBoxLoss', loss_weight=0.1),
    class_match='hyponym',
    max_text_length=40,
    regression_switch=0.0,
)
