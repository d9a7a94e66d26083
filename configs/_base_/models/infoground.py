# InfoGround (Gupta et al., ECCV 2020): word-region attention over detector proposals, trained
# with L_img (Eq. 8) + L_lang (Eq. 9) on the contextual word features of a frozen BERT.
# Experiment configs set the region feature size, the word encoder and the data.
model = dict(
    type='InfoGroundGrounder',
    data_preprocessor=dict(type='BaseDataPreprocessor'),  # region features only, no image
    # frozen bert-base-uncased (all 12 layers), a local save_pretrained folder
    text_encoder=dict(type='BertTextEncoder', pretrained='data/bert-base-uncased',
                      num_layers=12),
    tokenizer=dict(name_or_path='data/bert-base-uncased'),
    # k_r, v_r, q_w, v_w: one hidden layer of the input size (BatchNorm, ReLU), output 384
    attention=dict(type='WordRegionAttention', region_dim=2048, word_dim=768, embed_dim=384),
    image_loss=dict(type='InfoGroundImageLoss'),
    language_loss=dict(type='InfoGroundLanguageLoss'),
    max_text_length=40)

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-5))
