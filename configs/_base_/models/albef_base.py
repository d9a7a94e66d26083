# ALBEF-base (Li et al., 2021): ViT-B/16 at 256 px, BERT-base split into 6 text layers and 6
# fusion layers; the AMC paper explains the 3rd fusion cross-attention (block 8 of 12).
# data/bert-base-uncased: a local save_pretrained folder of bert-base-uncased (config,
# weights, vocab.txt); the official ALBEF checkpoint is converted with
# tools/model_converters/albef_to_mmgrounding.py and given as load_from.
bert = dict(hidden_size=768, num_attention_heads=12, intermediate_size=3072)
model = dict(
    type='ALBEFGrounder',
    data_preprocessor=dict(
        type='DetDataPreprocessor',
        # ALBEF normalises with CLIP's statistics
        mean=[122.771, 116.746, 104.094],
        std=[68.501, 66.632, 70.323],
        bgr_to_rgb=True),
    image_encoder=dict(
        type='VisionTransformer', img_size=256, patch_size=16, embed_dim=768, depth=12,
        num_heads=12),
    text_encoder=dict(
        type='BertTextEncoder', pretrained='data/bert-base-uncased', num_layers=6),
    fusion=dict(type='ALBEFFusionEncoder', config=bert, num_layers=6),
    tokenizer=dict(name_or_path='data/bert-base-uncased'),
    explainer=dict(type='GradCAMExplainer', target_layer='fusion.layers.2.crossattention.self'),
    amc_loss=dict(type='AMCLoss'),
    embed_dim=256,
    queue_size=65536,
    teacher_decay=0.995,
    # the teacher's class token through the last ViT block alone, its update in one pass
    # (float rounding only; docs/get_started.md "Speed of the ALBEF-base step")
    fast_teacher=True,
    distill_alpha=0.4,
    temperature=0.07,
    max_text_length=30)
