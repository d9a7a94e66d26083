# CKD (Wang et al., CVPR 2021): region branch f and phrase branch g (FC + ReLU, L2-normalised
# 512-d), a word-level phrase LSTM, L = L_IS + λ L_RP with λ = min(⌊iter / a⌋, b).
# Experiment configs set the region cache (cache_dir, feature size) and the vocabulary.
model = dict(
    type='CKDGrounder',
    data_preprocessor=dict(type='BaseDataPreprocessor'),  # region features only, no image
    phrase_encoder=dict(
        type='LSTMPhraseEncoder',
        vocab_file=None,  # tools/build_phrase_vocab.py
        embed_dim=300,
        hidden_dim=300,
        num_layers=2,
        glove_file=None,  # a GloVe 300-d text file, else learned embeddings
        freeze_embeddings=False),
    # f: region feature -> 512 -> 512
    region_branch=dict(type='EmbeddingBranch', in_dim=2048, hidden_dims=(512, ), out_dim=512),
    # g: the "two FC layers -> 512" after the phrase LSTM's max pooling
    phrase_branch=dict(type='EmbeddingBranch', in_dim=300, hidden_dims=(512, ), out_dim=512),
    image_sentence_loss=dict(type='ImageSentenceNCELoss', temperature=0.5),
    region_phrase_loss=dict(type='CKDRegionPhraseLoss', temperature=0.5),
    distill_weight=0.0,  # set every iteration by LossWeightStaircaseHook
    cache_dir=None,
    stats_split='train')

# λ = min(⌊iter / a⌋, b): a = 200; b = 1 with Visual Genome detector features, 3 otherwise
custom_hooks = [
    dict(type='LossWeightStaircaseHook', attribute='distill_weight', step_size=200, max_weight=3)
]
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4))
