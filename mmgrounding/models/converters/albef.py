"""Official ALBEF checkpoints (``ALBEF.pth``, ``ALBEF_4M.pth``) -> ``ALBEFGrounder`` names.

Official layout: ``visual_encoder.*`` (timm ViT), ``text_encoder.bert.*`` (BERT; layers 6–11
carry ``crossattention``), ``text_encoder.cls.predictions.*`` (MLM head), the momentum copies
``visual_encoder_m.*`` / ``text_encoder_m.*`` / ``vision_proj_m`` / ``text_proj_m``,
``vision_proj``, ``text_proj``, ``itm_head``, ``temp``, ``image_queue``, ``text_queue`` and
``queue_ptr``. mmgrounding splits the BERT stack into ``text_encoder`` (layers below
``text_layers``) and ``fusion.layers`` (the rest); the momentum teacher has no fusion layers,
so ``text_encoder_m``'s fusion layers and MLM head are dropped (and reported), and so are
the ``*.embeddings.position_ids`` buffers (``arange(max_position_embeddings)``, which
transformers >= 4.31 no longer saves: loading them would only report unexpected keys).
"""

import re

from torch import Tensor

from ..backbones.vit import interpolate_pos_embed

_LAYER = re.compile(r'^(text_encoder(?:_m)?)\.bert\.encoder\.layer\.(\d+)\.(.*)$')


def convert_albef_state_dict(
    state_dict: dict[str, Tensor], *, text_layers: int = 6, grid_hw: tuple[int, int] | None = None
) -> tuple[dict, list[str]]:
    """Rename an official ALBEF state dict.

    Args:
        state_dict: the ``model`` entry of the official checkpoint.
        text_layers: BERT layers of the text encoder; the layers from there on are fusion.
        grid_hw: patch grid of the target resolution; the position embeddings
            (``visual_encoder(_m).pos_embed``) are interpolated to it when given.

    Returns:
        The converted state dict and the official keys that have no place in mmgrounding.
    """
    converted: dict[str, Tensor] = {}
    dropped: list[str] = []
    for key, value in state_dict.items():
        new_key = _convert_key(key, text_layers)
        if new_key is None:
            dropped.append(key)
            continue
        if grid_hw is not None and new_key.endswith('pos_embed'):
            value = interpolate_pos_embed(value, grid_hw)
        converted[new_key] = value
    return converted, dropped


def _convert_key(key: str, text_layers: int) -> str | None:
    if key.startswith('visual_encoder_m.'):
        return 'image_encoder_m.' + key[len('visual_encoder_m.') :]
    if key.startswith('visual_encoder.'):
        return 'image_encoder.' + key[len('visual_encoder.') :]
    match = _LAYER.match(key)
    if match:
        prefix, index, rest = match.group(1), int(match.group(2)), match.group(3)
        if index < text_layers:
            return f'{prefix}.bert.encoder.layer.{index}.{rest}'
        if prefix == 'text_encoder':
            return f'fusion.layers.{index - text_layers}.{rest}'
        return None  # the momentum text encoder's fusion layers: no fusion teacher here
    if key.endswith('.embeddings.position_ids'):
        return None  # a constant buffer, not saved by today's BertEmbeddings
    if key.startswith(('text_encoder.bert.embeddings.', 'text_encoder_m.bert.embeddings.')):
        return key
    if key.startswith('text_encoder.cls.predictions.'):
        return 'mlm_head.predictions.' + key[len('text_encoder.cls.predictions.') :]
    if key.startswith(
        ('text_encoder_m.cls.', 'text_encoder.bert.pooler.', 'text_encoder_m.bert.pooler.')
    ):
        return None
    if key.split('.')[0] in (
        'vision_proj',
        'text_proj',
        'vision_proj_m',
        'text_proj_m',
        'itm_head',
        'temp',
        'image_queue',
        'text_queue',
        'queue_ptr',
    ):
        return key
    return None
