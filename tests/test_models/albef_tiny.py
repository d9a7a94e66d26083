"""A tiny ALBEF config shared by the ALBEF tests."""


def tiny_albef_cfg(vocab_file: str, **overrides) -> dict:
    bert = dict(vocab_size=64, hidden_size=32, num_attention_heads=2, intermediate_size=64,
                max_position_embeddings=32)
    cfg = dict(
        type='ALBEFGrounder',
        image_encoder=dict(type='VisionTransformer', img_size=32, patch_size=8, embed_dim=32,
                           depth=1, num_heads=2),
        text_encoder=dict(type='BertTextEncoder', config=bert, num_layers=1),
        fusion=dict(type='ALBEFFusionEncoder', config=bert, num_layers=2),
        tokenizer=dict(vocab_file=vocab_file),
        explainer=dict(type='GradCAMExplainer',
                       target_layer='fusion.layers.0.crossattention.self'),
        embed_dim=16,
        queue_size=8)
    cfg.update(overrides)
    return cfg


WORDS = ['a', 'red', 'blue', 'green', 'circle', 'square', 'star', 'on', 'the', 'left', 'right',
         'small', 'large']


def write_vocab(path) -> str:
    specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    path.write_text('\n'.join(specials + WORDS) + '\n')
    return str(path)
