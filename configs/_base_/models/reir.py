# ReIR (Liu et al., CVPR 2021) at the paper's sizes: d = 1024 (official: res5 -> mean ->
# Linear 1024 -> BN), a 1-layer caption LSTM, M = 50 proposals, K = 5, τ = 0.6,
# L = L_rec + 0.1 L_reg + L_rel + L_rank, L_reg switched on after 7.5k iterations.
# Experiment configs set the region source (cache_dir and in_dim, or roi_extractor), the
# vocabularies (tools/build_relation_vocab.py) and the label prior.
dim = 1024
model = dict(
    type='ReIRGrounder',
    data_preprocessor=dict(type='BaseDataPreprocessor'),  # cached region features
    phrase_encoder=dict(
        type='CaptionLSTMPhraseEncoder',
        vocab_file=None,  # tools/build_relation_vocab.py --word-vocab-out
        embed_dim=300,
        hidden_dim=dim,
        num_layers=1,
        glove_file=None,
    ),
    region_embedder=dict(type='RegionFeatureEmbedder', in_dim=2048, out_dim=dim, norm='BN'),
    matching_head=dict(type='ReIRMatchingHead', hidden_dim=256, reg_uses_phrase=True),
    phrase_decoder=dict(type='PhraseReconstructionDecoder', embed_dim=300, hidden_dim=dim),
    reconstruction_loss=dict(type='PhraseReconstructionLoss', loss_weight=1.0),
    ranking_loss=dict(
        type='ImageCaptionRankingLoss', margin=0.2, normalise='softmax', loss_weight=1.0
    ),  # λ3
    regression_loss=dict(
        type='SelfTaughtRegressionLoss',
        iou_thr=0.6,
        score_gap=0.1,
        delta_weights=(10.0, 10.0, 5.0, 5.0),
        beta=1.0,
        loss_weight=0.1,
    ),  # λ1
    relation_loss=dict(type='RelationClassificationLoss', loss_weight=1.0),  # λ2
    label_prior=dict(type='WordNetLabelPrior'),  # or GloVeLabelPrior (the paper's)
    object_graph=dict(type='VisualObjectGraph', edge_weights='learned'),
    relation_classifier=dict(type='RelationClassifier', hidden_dim=dim),
    relation_vocab_file=None,  # tools/build_relation_vocab.py
    two_stage=True,
    topk=5,
    rank_dim=512,
    regression_switch=0.0,  # set every iteration by the hook below
    cache_dir=None,
    stats_split='train',
)

# L_reg is multiplied by regression_switch = min(⌊iter / 7500⌋, 1): off, then on
custom_hooks = [
    dict(
        type='LossWeightStaircaseHook', attribute='regression_switch', step_size=7500, max_weight=1
    )
]
# the paper: SGD lr 1e-3, weight decay 5e-4, batch 40, 80k iterations, lr / 10 at 32k, 40k
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4)
)
param_scheduler = [dict(type='MultiStepLR', by_epoch=False, milestones=[32000, 40000], gamma=0.1)]
