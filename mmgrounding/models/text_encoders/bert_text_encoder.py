"""BERT text encoder (transformers) for the text side of ALBEF-style models."""
from mmengine.model import BaseModule
from torch import Tensor
from transformers import BertConfig, BertModel

from mmgrounding.registry import MODELS


@MODELS.register_module()
class BertTextEncoder(BaseModule):
    """The first ``num_layers`` layers of a transformers ``BertModel``, no pooler.

    Args:
        config: ``BertConfig`` fields (``vocab_size``, ``hidden_size``, ``num_attention_heads``,
            ``intermediate_size`` ...) for a randomly initialised encoder.
        pretrained: a local folder written by ``save_pretrained`` (e.g. bert-base-uncased);
            its weights are loaded and ``config`` overrides its fields.
        num_layers: how many layers to keep (ALBEF: 6 text layers; 6 more go to fusion).
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 *,
                 config: dict | None = None,
                 pretrained: str | None = None,
                 num_layers: int = 6,
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        overrides = dict(config or {}, num_hidden_layers=num_layers)
        if pretrained is not None:
            self.bert = BertModel.from_pretrained(
                pretrained, add_pooling_layer=False, attn_implementation='sdpa', **overrides)
        else:
            self.bert = BertModel(
                BertConfig(**overrides, attn_implementation='sdpa'), add_pooling_layer=False)
        self.config = self.bert.config

    @property
    def hidden_size(self) -> int:
        return self.config.hidden_size

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        """(B, L) token ids and mask -> (B, L, D) contextual features."""
        return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
