"""The official ALBEF pretraining step with AMC's loss, re-implemented in pure torch.

The yardstick of ``benchmarks/amc_step.py`` (issue 14 §3): the step the public code takes,
so that our step is timed against it side by side in one run. Written here from a reading of
the public code (no text copied; no timm, torchvision or transformers needed), computing the
same operations in the same order and shapes:

=====================================  ====================================================
here                                   mirrors
=====================================  ====================================================
``VisionTransformer`` and its parts    salesforce/ALBEF ``models/vit.py``: ``PatchEmbed``
                                       (timm's: stride-16 conv, flatten, transpose),
                                       ``Attention`` (one ``qkv`` Linear, explicit
                                       ``q @ k^T · scale``, softmax, ``attn @ v``),
                                       ``Mlp``, ``Block`` (pre-norm, drop path 0: identity),
                                       ``VisionTransformer.forward`` and ``_init_weights``
``BertEmbeddings`` ... ``BertForMaskedLM``  ALBEF/AMC ``models/xbert.py``: ``BertSelfAttention``
                                       (explicit matmul, ``/ sqrt(d)``, additive mask,
                                       softmax, dropout, ``matmul``; ``save_attention``
                                       keeps a cross-attention map and hooks its gradient),
                                       ``BertLayer`` (cross-attention from ``fusion_layer``
                                       on), ``BertEncoder.forward`` (``mode`` ``'text'``:
                                       layers below ``fusion_layer``, ``'fusion'``: the
                                       rest, ``'multi_modal'``: all), ``BertModel.forward``
                                       (extended masks, ``encoder_embeds`` skip the
                                       embeddings), ``BertForMaskedLM.forward`` (logits of
                                       every token, ``soft_labels`` distillation)
``ALBEF``                              uvavision/AMC-grounding ``models/model_pretrain.py``
                                       (ALBEF's ``ALBEF.forward`` plus AMC's Grad-CAM on
                                       ``encoder.layer[8].crossattention`` and its two box
                                       losses, ``copy_params``, ``_momentum_update``,
                                       AMC's ``_dequeue_and_enqueue`` with two pointers and
                                       wrap-around, ``mask``)
``create_optimizer``                   timm's ``create_optimizer`` as ALBEF/AMC call it
                                       (``configs/Pretrain.yaml``: adamW, lr 1e-5, weight
                                       decay 0.02; no decay on 1-d parameters and
                                       ``*.bias``): ``torch.optim.AdamW`` with torch's
                                       default (per-parameter loop on the CPU)
``train_step``                         AMC-grounding ``Pretrain.py`` ``train``: zero_grad,
                                       forward, ``mlm + ita + itm + 0.2 L_mean + 0.8 L_max``,
                                       backward, step
=====================================  ====================================================

Interpretations (where the public code could not be followed literally):

- **One process.** ``concat_all_gather`` (``torch.distributed.all_gather``) is the identity
  here; the official code requires an initialised process group.
- **Random weights.** No DeiT or bert-base-uncased download: the ViT is initialised as its
  ``_init_weights`` does (truncated normal 0.02, zero biases) and BERT as
  ``BertPreTrainedModel._init_weights`` (normal 0.02, zero biases, LayerNorm 1/0). The MLM
  decoder is tied to the word embeddings, as ``from_pretrained`` ties them.
- **BERT config.** ALBEF's ``configs/config_bert.json`` as released: bert-base (12 layers,
  12 heads, 768 wide, 3072 intermediate, vocabulary 30522, dropout 0.1, LayerNorm eps 1e-12),
  ``fusion_layer`` 6, ``encoder_width`` 768 (a stored copy of the file in another commit has
  other values; we take the paper's ALBEF-base).
- **transformers helpers.** ``ACT2FN['gelu']`` is the exact (erf) GELU;
  ``apply_chunking_to_forward`` with chunk size 0 calls the feed-forward directly; no head
  mask, no relative positions, no past key values (the paths the pretraining step takes).
  ``invert_attention_mask`` of the all-ones image mask is zero whatever its constant
  (transformers' float32 -1e9 of that time here).
- **Inputs.** ``text`` is a dict of ``input_ids`` and ``attention_mask`` (as AMC indexes
  it); ``tokenizer`` is any object with ``pad_token_id``, ``cls_token_id`` and
  ``mask_token_id``. ``mask_query_interp`` (B, 256, 256) and ``gt_mask_indicator`` (B, 1)
  are what AMC's ``pretrain_dataset`` returns. ``forward(mlm_inputs=...)`` (not in the
  official signature) takes a given MLM corruption instead of drawing it with ``mask``, so a
  test can give both codes the same masked tokens.
- **Min-max normalisation out of place.** The official ``gradcam -= min`` and
  ``gradcam /= max + 1e-7`` modify ReLU's output in place, which ReLU's backward needs: under
  torch 2.13 the backward of the step then raises "modified by an inplace operation" (measured
  with the literal code in ``tests/test_benchmarks/test_official_albef.py``'s training
  test). Here ``gradcam = gradcam - min`` and ``gradcam = gradcam / (max + 1e-7)``: the same
  values, two (B, N) tensors more.
- **Kept as the official code has them** (they are part of what is timed): the MLM
  distillation's ``log_softmax(dim=1)`` over the token axis, the momentum teacher's full
  12-layer MLM pass, the student's MLM logits over every token, the per-row
  ``torch.multinomial(...).item()`` hard negatives that keep their gradient, Grad-CAM
  averaged over all ``L`` token rows (padding rows zeroed), and the fresh tensors of
  ``param_m.data = param_m.data * m + param.data * (1 - m)``.
"""

import math
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

BERT_BASE = dict(
    vocab_size=30522,
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    hidden_dropout_prob=0.1,
    attention_probs_dropout_prob=0.1,
    max_position_embeddings=512,
    type_vocab_size=2,
    layer_norm_eps=1e-12,
    pad_token_id=0,
    initializer_range=0.02,
    fusion_layer=6,
    encoder_width=768,
)
# AMC-grounding configs/Pretrain.yaml (queue 65536 there; the benchmark passes its own)
PRETRAIN = dict(
    image_res=256,
    vision_width=768,
    embed_dim=256,
    temp=0.07,
    mlm_probability=0.15,
    queue_size=65536,
    momentum=0.995,
    alpha=0.4,
    add_gcam=True,
    mask_size=256,
)
VIT_BASE = dict(patch_size=16, embed_dim=768, depth=12, num_heads=12, mlp_ratio=4.0)


# ============================================================ models/vit.py
class PatchEmbed(nn.Module):
    def __init__(self, patch_size: int, in_chans: int, embed_dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)  # (B, N, D)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(0.0)

    def forward(self, x: Tensor) -> Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class Attention(nn.Module):
    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.attn_drop = nn.Dropout(0.0)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(0.0)

    def forward(self, x: Tensor) -> Tensor:
        batch, num, dim = x.shape
        qkv = self.qkv(x).reshape(batch, num, 3, self.num_heads, dim // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, heads, N, d)
        attn = self.attn_drop(((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1))
        x = (attn @ v).transpose(1, 2).reshape(batch, num, dim)
        return self.proj_drop(self.proj(x))


class Block(nn.Module):
    def __init__(self, dim: int, num_heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    def __init__(
        self,
        *,
        img_size: int,
        patch_size: int,
        embed_dim: int,
        depth: int,
        num_heads: int,
        mlp_ratio: float,
    ) -> None:
        super().__init__()
        num_patches = (img_size // patch_size) ** 2
        self.patch_embed = PatchEmbed(patch_size, 3, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim))
        self.pos_drop = nn.Dropout(0.0)
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.zeros_(m.bias)
            nn.init.ones_(m.weight)

    def forward(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) -> (B, 1 + N, D)."""
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        x = self.pos_drop(x + self.pos_embed[:, : x.size(1), :])
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


# ============================================================ models/xbert.py
class BertEmbeddings(nn.Module):
    def __init__(self, config: SimpleNamespace) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(
            config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id
        )
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.register_buffer(
            'position_ids', torch.arange(config.max_position_embeddings).expand((1, -1))
        )

    def forward(self, input_ids: Tensor) -> Tensor:
        length = input_ids.shape[1]
        token_type_ids = torch.zeros(input_ids.shape, dtype=torch.long, device=input_ids.device)
        embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        embeddings += self.position_embeddings(self.position_ids[:, :length])
        return self.dropout(self.LayerNorm(embeddings))


class BertSelfAttention(nn.Module):
    def __init__(self, config: SimpleNamespace, is_cross_attention: bool) -> None:
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        kv_width = config.encoder_width if is_cross_attention else config.hidden_size
        self.query = nn.Linear(config.hidden_size, self.all_head_size)
        self.key = nn.Linear(kv_width, self.all_head_size)
        self.value = nn.Linear(kv_width, self.all_head_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)
        self.save_attention = False
        self.attention_map: Tensor | None = None
        self.attn_gradients: Tensor | None = None

    def save_attn_gradients(self, grad: Tensor) -> None:
        self.attn_gradients = grad

    def get_attention_map(self) -> Tensor:
        return self.attention_map

    def transpose_for_scores(self, x: Tensor) -> Tensor:
        x = x.view(*x.shape[:-1], self.num_attention_heads, self.attention_head_size)
        return x.permute(0, 2, 1, 3)  # (B, heads, L, d)

    def forward(
        self,
        hidden_states: Tensor,
        attention_mask: Tensor | None,
        encoder_hidden_states: Tensor | None = None,
        encoder_attention_mask: Tensor | None = None,
    ) -> Tensor:
        mixed_query = self.query(hidden_states)
        is_cross_attention = encoder_hidden_states is not None
        source = encoder_hidden_states if is_cross_attention else hidden_states
        key = self.transpose_for_scores(self.key(source))
        value = self.transpose_for_scores(self.value(source))
        if is_cross_attention:
            attention_mask = encoder_attention_mask
        query = self.transpose_for_scores(mixed_query)
        scores = torch.matmul(query, key.transpose(-1, -2)) / math.sqrt(self.attention_head_size)
        if attention_mask is not None:
            scores = scores + attention_mask
        probs = nn.Softmax(dim=-1)(scores)  # (B, heads, L, N)
        if is_cross_attention and self.save_attention:
            self.attention_map = probs
            probs.register_hook(self.save_attn_gradients)
        context = torch.matmul(self.dropout(probs), value)  # (B, heads, L, d)
        context = context.permute(0, 2, 1, 3).contiguous()
        return context.view(*context.shape[:-2], self.all_head_size)  # (B, L, D)


class BertSelfOutput(nn.Module):
    def __init__(self, config: SimpleNamespace, in_width: int | None = None) -> None:
        super().__init__()
        self.dense = nn.Linear(in_width or config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: Tensor, input_tensor: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertAttention(nn.Module):
    def __init__(self, config: SimpleNamespace, is_cross_attention: bool = False) -> None:
        super().__init__()
        self.self = BertSelfAttention(config, is_cross_attention)
        self.output = BertSelfOutput(config)

    def forward(
        self, hidden_states, attention_mask, encoder_hidden_states=None, encoder_attention_mask=None
    ) -> Tensor:
        attended = self.self(
            hidden_states, attention_mask, encoder_hidden_states, encoder_attention_mask
        )
        return self.output(attended, hidden_states)


class BertIntermediate(nn.Module):
    def __init__(self, config: SimpleNamespace) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)

    def forward(self, hidden_states: Tensor) -> Tensor:
        return F.gelu(self.dense(hidden_states))


class BertOutput(BertSelfOutput):
    def __init__(self, config: SimpleNamespace) -> None:
        super().__init__(config, config.intermediate_size)


class BertLayer(nn.Module):
    def __init__(self, config: SimpleNamespace, layer_num: int) -> None:
        super().__init__()
        self.attention = BertAttention(config)
        self.has_cross_attention = layer_num >= config.fusion_layer
        if self.has_cross_attention:
            self.crossattention = BertAttention(config, is_cross_attention=True)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(
        self, hidden_states, attention_mask, encoder_hidden_states=None, encoder_attention_mask=None
    ) -> Tensor:
        attention_output = self.attention(hidden_states, attention_mask)
        if self.has_cross_attention:
            if encoder_hidden_states is None:
                raise ValueError('encoder_hidden_states must be given for cross-attention layers')
            attention_output = self.crossattention(
                attention_output, attention_mask, encoder_hidden_states, encoder_attention_mask
            )
        return self.output(self.intermediate(attention_output), attention_output)


class BertEncoder(nn.Module):
    def __init__(self, config: SimpleNamespace) -> None:
        super().__init__()
        self.config = config
        self.layer = nn.ModuleList(BertLayer(config, i) for i in range(config.num_hidden_layers))

    def forward(
        self,
        hidden_states,
        attention_mask,
        encoder_hidden_states=None,
        encoder_attention_mask=None,
        mode: str = 'multi_modal',
    ) -> Tensor:
        start, end = {
            'text': (0, self.config.fusion_layer),
            'fusion': (self.config.fusion_layer, self.config.num_hidden_layers),
            'multi_modal': (0, self.config.num_hidden_layers),
        }[mode]
        for i in range(start, end):
            hidden_states = self.layer[i](
                hidden_states, attention_mask, encoder_hidden_states, encoder_attention_mask
            )
        return hidden_states


class BertModel(nn.Module):
    """BERT without pooler (``BertForMaskedLM`` builds it with ``add_pooling_layer=False``)."""

    def __init__(self, config: SimpleNamespace) -> None:
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)

    def forward(
        self,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
        encoder_embeds: Tensor | None = None,
        encoder_hidden_states: Tensor | None = None,
        encoder_attention_mask: Tensor | None = None,
        mode: str = 'multi_modal',
    ) -> Tensor:
        """Last hidden state (B, L, D)."""
        dtype = next(self.parameters()).dtype
        # get_extended_attention_mask: (B, 1, 1, L), 0 to attend, -10000 for padding
        extended = (1.0 - attention_mask[:, None, None, :].to(dtype)) * -10000.0
        encoder_extended = None
        if encoder_hidden_states is not None:
            if encoder_attention_mask is None:
                encoder_attention_mask = torch.ones(
                    encoder_hidden_states.shape[:2], device=encoder_hidden_states.device
                )
            # invert_attention_mask (transformers of ALBEF's time, float32: -1e9)
            encoder_extended = (1.0 - encoder_attention_mask[:, None, None, :].to(dtype)) * -1e9
        hidden = self.embeddings(input_ids) if encoder_embeds is None else encoder_embeds
        return self.encoder(hidden, extended, encoder_hidden_states, encoder_extended, mode=mode)


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, config: SimpleNamespace) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden_states: Tensor) -> Tensor:
        return self.LayerNorm(F.gelu(self.dense(hidden_states)))


class BertLMPredictionHead(nn.Module):
    def __init__(self, config: SimpleNamespace) -> None:
        super().__init__()
        self.transform = BertPredictionHeadTransform(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.decoder.bias = self.bias

    def forward(self, hidden_states: Tensor) -> Tensor:
        return self.decoder(self.transform(hidden_states))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, config: SimpleNamespace) -> None:
        super().__init__()
        self.predictions = BertLMPredictionHead(config)

    def forward(self, sequence_output: Tensor) -> Tensor:
        return self.predictions(sequence_output)


class BertForMaskedLM(nn.Module):
    def __init__(self, config: SimpleNamespace) -> None:
        super().__init__()
        self.config = config
        self.bert = BertModel(config)
        self.cls = BertOnlyMLMHead(config)
        self.apply(self._init_weights)
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight  # tied

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(mean=0.0, std=self.config.initializer_range)
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)
        if isinstance(module, nn.Linear) and module.bias is not None:
            module.bias.data.zero_()

    def forward(
        self,
        input_ids,
        attention_mask,
        encoder_hidden_states,
        encoder_attention_mask,
        labels=None,
        soft_labels=None,
        alpha: float = 0,
        return_logits: bool = False,
    ):
        """MLM logits (B, L, V) with ``return_logits``, else the (distilled) MLM loss."""
        sequence_output = self.bert(
            input_ids,
            attention_mask=attention_mask,
            encoder_hidden_states=encoder_hidden_states,
            encoder_attention_mask=encoder_attention_mask,
        )
        prediction_scores = self.cls(sequence_output)  # (B, L, V)
        if return_logits:
            return prediction_scores
        loss = F.cross_entropy(
            prediction_scores.view(-1, self.config.vocab_size), labels.view(-1)
        )  # ignore_index -100
        if soft_labels is not None:
            # as in the official code: log_softmax over dim 1, the token axis
            distill = -torch.sum(F.log_softmax(prediction_scores, dim=1) * soft_labels, dim=-1)
            loss = (1 - alpha) * loss + alpha * distill[labels != -100].mean()
        return loss


# ============================================================ models/model_pretrain.py (AMC)
def bert_config(**overrides) -> SimpleNamespace:
    return SimpleNamespace(**{**BERT_BASE, **overrides})


class ALBEF(nn.Module):
    """ALBEF pretraining with AMC's Grad-CAM box losses (AMC-grounding's ``ALBEF``).

    Args:
        tokenizer: gives ``pad_token_id``, ``cls_token_id`` and ``mask_token_id``.
        config: :data:`PRETRAIN` keys (``image_res``, ``queue_size`` ...).
        bert: ``BertConfig`` fields over :data:`BERT_BASE`.
        vit: ``VisionTransformer`` sizes over :data:`VIT_BASE`.
    """

    def __init__(
        self,
        tokenizer,
        *,
        config: dict | None = None,
        bert: dict | None = None,
        vit: dict | None = None,
    ) -> None:
        super().__init__()
        config = {**PRETRAIN, **(config or {})}
        self.tokenizer = tokenizer
        self.mlm_probability = config['mlm_probability']
        embed_dim = config['embed_dim']
        vit = {**VIT_BASE, **(vit or {})}
        bert_cfg = bert_config(**(bert or {}))
        self.visual_encoder = VisionTransformer(img_size=config['image_res'], **vit)
        self.text_encoder = BertForMaskedLM(bert_cfg)
        text_width = bert_cfg.hidden_size
        self.vision_proj = nn.Linear(vit['embed_dim'], embed_dim)
        self.text_proj = nn.Linear(text_width, embed_dim)
        self.temp = nn.Parameter(torch.ones([]) * config['temp'])
        self.queue_size = config['queue_size']
        self.momentum = config['momentum']
        self.itm_head = nn.Linear(text_width, 2)

        self.visual_encoder_m = VisionTransformer(img_size=config['image_res'], **vit)
        self.vision_proj_m = nn.Linear(vit['embed_dim'], embed_dim)
        self.text_encoder_m = BertForMaskedLM(bert_cfg)
        self.text_proj_m = nn.Linear(text_width, embed_dim)
        self.model_pairs = [
            [self.visual_encoder, self.visual_encoder_m],
            [self.vision_proj, self.vision_proj_m],
            [self.text_encoder, self.text_encoder_m],
            [self.text_proj, self.text_proj_m],
        ]
        self.copy_params()

        self.register_buffer('image_queue', torch.randn(embed_dim, self.queue_size))
        self.register_buffer('text_queue', torch.randn(embed_dim, self.queue_size))
        self.register_buffer('queue_ptr_img', torch.zeros(1, dtype=torch.long))
        self.register_buffer('queue_ptr_txt', torch.zeros(1, dtype=torch.long))
        self.image_queue = F.normalize(self.image_queue, dim=0)
        self.text_queue = F.normalize(self.text_queue, dim=0)
        self.mask_size = config['mask_size']
        self.add_gcam = config['add_gcam']
        self.grid = config['image_res'] // vit['patch_size']  # the official code: 16
        # Pretrain.py: the explained layer (BERT layer 8 = the third fusion layer)
        self.gcam_layer = bert_cfg.fusion_layer + 2
        if self.add_gcam:
            self._explained().save_attention = True

    def _explained(self) -> BertSelfAttention:
        return self.text_encoder.bert.encoder.layer[self.gcam_layer].crossattention.self

    def forward(
        self,
        image: Tensor,
        text: dict,
        alpha: float = 0,
        mask_query_interp=None,
        gt_mask_indicator=None,
        mlm_inputs: tuple | None = None,
    ):
        """``(loss_mlm, loss_ita, loss_itm[, loss_gcam_mean, loss_gcam_max])``."""
        with torch.no_grad():
            self.temp.clamp_(0.001, 0.5)
        ids, att = text['input_ids'], text['attention_mask']
        image_embeds = self.visual_encoder(image)  # (B, 1 + N, D)
        image_atts = torch.ones(image_embeds.shape[:-1], dtype=torch.long, device=image.device)
        image_feat = F.normalize(self.vision_proj(image_embeds[:, 0, :]), dim=-1)
        text_embeds = self.text_encoder.bert(ids, attention_mask=att, mode='text')
        text_feat = F.normalize(self.text_proj(text_embeds[:, 0, :]), dim=-1)

        with torch.no_grad():
            self._momentum_update()
            image_embeds_m = self.visual_encoder_m(image)
            image_feat_m = F.normalize(self.vision_proj_m(image_embeds_m[:, 0, :]), dim=-1)
            image_feat_all = torch.cat([image_feat_m.t(), self.image_queue.clone().detach()], 1)
            text_out_m = self.text_encoder_m.bert(ids, attention_mask=att, mode='text')
            text_feat_m = F.normalize(self.text_proj_m(text_out_m[:, 0, :]), dim=-1)
            text_feat_all = torch.cat([text_feat_m.t(), self.text_queue.clone().detach()], 1)
            sim_i2t_m = image_feat_m @ text_feat_all / self.temp
            sim_t2i_m = text_feat_m @ image_feat_all / self.temp
            targets_i2t = torch.zeros(sim_i2t_m.size(), device=image.device)
            targets_i2t.fill_diagonal_(1)
            targets_t2i = torch.zeros(sim_t2i_m.size(), device=image.device)
            targets_t2i.fill_diagonal_(1)
            sim_i2t_targets = alpha * F.softmax(sim_i2t_m, dim=1) + (1 - alpha) * targets_i2t
            sim_t2i_targets = alpha * F.softmax(sim_t2i_m, dim=1) + (1 - alpha) * targets_t2i
        sim_i2t = image_feat @ text_feat_all / self.temp
        sim_t2i = text_feat @ image_feat_all / self.temp
        loss_i2t = -torch.sum(F.log_softmax(sim_i2t, dim=1) * sim_i2t_targets, dim=1).mean()
        loss_t2i = -torch.sum(F.log_softmax(sim_t2i, dim=1) * sim_t2i_targets, dim=1).mean()
        loss_ita = (loss_i2t + loss_t2i) / 2
        self._dequeue_and_enqueue(image_feat_m, text_feat_m)

        # ITM: the positive pairs, then the negatives in a second fusion pass
        output_pos = self.text_encoder.bert(
            encoder_embeds=text_embeds,
            attention_mask=att,
            encoder_hidden_states=image_embeds,
            encoder_attention_mask=image_atts,
            mode='fusion',
        )
        gcam = mask_query_interp is not None and self.add_gcam
        if gcam:
            fmaps = self._explained().get_attention_map()  # (B, heads, L, 1 + N)
        with torch.no_grad():
            bs = image.size(0)
            weights_i2t = F.softmax(sim_i2t[:, :bs], dim=1)
            weights_t2i = F.softmax(sim_t2i[:, :bs], dim=1)
            weights_i2t.fill_diagonal_(0)
            weights_t2i.fill_diagonal_(0)
        image_embeds_neg = []
        for b in range(bs):
            image_embeds_neg.append(image_embeds[torch.multinomial(weights_t2i[b], 1).item()])
        image_embeds_neg = torch.stack(image_embeds_neg, dim=0)
        text_embeds_neg, text_atts_neg = [], []
        for b in range(bs):
            neg_idx = torch.multinomial(weights_i2t[b], 1).item()
            text_embeds_neg.append(text_embeds[neg_idx])
            text_atts_neg.append(att[neg_idx])
        text_embeds_neg = torch.stack(text_embeds_neg, dim=0)
        text_atts_neg = torch.stack(text_atts_neg, dim=0)
        text_embeds_all = torch.cat([text_embeds, text_embeds_neg], dim=0)
        text_atts_all = torch.cat([att, text_atts_neg], dim=0)
        image_embeds_all = torch.cat([image_embeds_neg, image_embeds], dim=0)
        image_atts_all = torch.cat([image_atts, image_atts], dim=0)
        output_neg = self.text_encoder.bert(
            encoder_embeds=text_embeds_all,
            attention_mask=text_atts_all,
            encoder_hidden_states=image_embeds_all,
            encoder_attention_mask=image_atts_all,
            mode='fusion',
        )
        vl_embeddings = torch.cat([output_pos[:, 0, :], output_neg[:, 0, :]], dim=0)
        vl_output = self.itm_head(vl_embeddings)  # (3B, 2)
        itm_labels = torch.cat(
            [torch.ones(bs, dtype=torch.long), torch.zeros(2 * bs, dtype=torch.long)]
        ).to(image.device)
        loss_itm = F.cross_entropy(vl_output, itm_labels)

        gcam = gcam and gt_mask_indicator.sum().item() > 0
        if gcam:
            loss_gcam_mean, loss_gcam_max = self._gcam_losses(
                vl_output[:bs], fmaps, att, mask_query_interp, gt_mask_indicator
            )

        # MLM, distilled from the momentum model's full (12-layer) pass
        if mlm_inputs is None:
            input_ids, labels = self.mask(
                ids.clone(),
                self.text_encoder.config.vocab_size,
                image.device,
                targets=ids.clone(),
                probability_matrix=torch.full(ids.shape, self.mlm_probability),
            )
        else:
            input_ids, labels = mlm_inputs
        with torch.no_grad():
            logits_m = self.text_encoder_m(
                input_ids, att, image_embeds_m, image_atts, return_logits=True
            )
        loss_mlm = self.text_encoder(
            input_ids,
            att,
            image_embeds,
            image_atts,
            labels=labels,
            soft_labels=F.softmax(logits_m, dim=-1),
            alpha=alpha,
        )
        if gcam:
            return loss_mlm, loss_ita, loss_itm, loss_gcam_mean, loss_gcam_max
        return loss_mlm, loss_ita, loss_itm

    def _gcam_losses(
        self,
        output: Tensor,
        fmaps: Tensor,
        att: Tensor,
        mask_query_interp: Tensor,
        gt_mask_indicator: Tensor,
    ) -> tuple:
        """AMC's block of ``forward``: Grad-CAM of the positives' match logit, min-max
        normalised, upsampled to ``mask_size``, and its mean and max margin losses."""
        bs, grid = output.shape[0], self.grid
        keep = gt_mask_indicator.squeeze() > 0
        mask_query_interp = mask_query_interp[keep]
        mask = att.view(bs, 1, -1, 1, 1)
        one_hot = torch.zeros_like(output)
        one_hot[:, 1] = 1
        grad = torch.autograd.grad(
            outputs=output, inputs=fmaps, grad_outputs=one_hot, create_graph=True
        )[0]
        heads = fmaps.shape[1]
        fmaps = fmaps[:, :, :, 1:].reshape(bs, heads, -1, grid, grid) * mask  # (B, h, L, g, g)
        grad = grad[:, :, :, 1:].clamp(0).reshape(bs, heads, -1, grid, grid) * mask
        gradcam = (fmaps * grad)[keep].mean(1).mean(1)  # (B', g, g)
        batch, height, width = gradcam.shape
        gradcam = F.relu(gradcam, inplace=False).view(batch, -1)
        # out of place: the official in-place -= and /= on ReLU's saved output fail the
        # backward (see the module docstring); the same values
        gradcam = gradcam - gradcam.min(dim=1, keepdim=True)[0]
        gradcam = gradcam / (gradcam.max(dim=1, keepdim=True)[0] + 1e-7)
        gradcam = F.interpolate(
            gradcam.view(batch, 1, height, width),
            (self.mask_size, self.mask_size),
            mode='bilinear',
            align_corners=False,
        ).squeeze()  # (B', S, S)
        in_box = gradcam * mask_query_interp
        out_box = gradcam * (1 - mask_query_interp)
        avg_in = torch.sum(in_box) / torch.sum(mask_query_interp)
        avg_out = torch.sum(out_box) / torch.sum(1 - mask_query_interp)
        zero = torch.tensor([0.0], device=output.device)
        loss_mean = torch.max(zero, avg_out - avg_in + 0.1)
        max_in = torch.max(in_box.view(in_box.size(0), -1), dim=1)[0]
        max_out = torch.max(out_box.view(out_box.size(0), -1), dim=1)[0]
        loss_max = torch.max(zero, max_out - max_in + 0.5).mean()
        return loss_mean, loss_max

    @torch.no_grad()
    def copy_params(self) -> None:
        for model, model_m in self.model_pairs:
            for param, param_m in zip(model.parameters(), model_m.parameters()):
                param_m.data.copy_(param.data)
                param_m.requires_grad = False

    @torch.no_grad()
    def _momentum_update(self) -> None:
        for model, model_m in self.model_pairs:
            for param, param_m in zip(model.parameters(), model_m.parameters()):
                param_m.data = param_m.data * self.momentum + param.data * (1.0 - self.momentum)

    @torch.no_grad()
    def _dequeue_and_enqueue(self, image_feat: Tensor, text_feat: Tensor) -> None:
        image_feats, text_feats = image_feat, text_feat  # concat_all_gather, one process
        n_img, n_txt = image_feats.shape[0], text_feats.shape[0]
        ptr_img, ptr_txt = int(self.queue_ptr_img), int(self.queue_ptr_txt)
        restart_img = ptr_img + n_img >= self.queue_size
        restart_txt = ptr_txt + n_txt >= self.queue_size
        if not restart_img:
            self.image_queue[:, ptr_img : ptr_img + n_img] = image_feats.T
        else:
            diff_img = self.queue_size - ptr_img
            self.image_queue[:, ptr_img:] = image_feats.T[:, :diff_img]
        if not restart_txt:
            self.text_queue[:, ptr_txt : ptr_txt + n_txt] = text_feats.T
        else:
            diff_txt = self.queue_size - ptr_txt
            self.text_queue[:, ptr_txt:] = text_feats.T[:, :diff_txt]
        ptr_img = (ptr_img + n_img) % self.queue_size
        ptr_txt = (ptr_txt + n_txt) % self.queue_size
        if restart_img:
            self.image_queue[:, :ptr_img] = image_feats.T[:, diff_img:]
        if restart_txt:
            self.text_queue[:, :ptr_txt] = text_feats.T[:, diff_txt:]
        self.queue_ptr_img[0] = ptr_img
        self.queue_ptr_txt[0] = ptr_txt

    def mask(
        self,
        input_ids: Tensor,
        vocab_size: int,
        device,
        targets: Tensor,
        probability_matrix: Tensor,
    ) -> tuple[Tensor, Tensor]:
        """BERT's corruption as ALBEF draws it: pad and [CLS] never chosen ([SEP] may be)."""
        masked = torch.bernoulli(probability_matrix).bool()
        masked[input_ids == self.tokenizer.pad_token_id] = False
        masked[input_ids == self.tokenizer.cls_token_id] = False
        targets[~masked] = -100
        replaced = torch.bernoulli(torch.full(input_ids.shape, 0.8)).bool() & masked
        input_ids[replaced] = self.tokenizer.mask_token_id
        randomized = torch.bernoulli(torch.full(input_ids.shape, 0.5)).bool() & masked & ~replaced
        random_words = torch.randint(vocab_size, input_ids.shape, dtype=torch.long).to(device)
        input_ids[randomized] = random_words[randomized]
        return input_ids, targets


# ============================================================ optimizer and step
def create_optimizer(
    model: nn.Module, *, lr: float = 1e-5, weight_decay: float = 0.02
) -> torch.optim.AdamW:
    """timm's ``create_optimizer(adamW)``: no decay on 1-d parameters and biases (ALBEF has no
    ``no_weight_decay`` list at its top level), torch's AdamW with its defaults."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        (no_decay if param.ndim == 1 or name.endswith('.bias') else decay).append(param)
    groups = [
        dict(params=no_decay, weight_decay=0.0),
        dict(params=decay, weight_decay=weight_decay),
    ]
    return torch.optim.AdamW(groups, lr=lr, weight_decay=0.0)


def train_step(
    model: ALBEF,
    optimizer: torch.optim.Optimizer,
    image: Tensor,
    text: dict,
    *,
    alpha: float,
    mask_query_interp: Tensor | None = None,
    gt_mask_indicator: Tensor | None = None,
) -> dict:
    """One iteration of AMC's ``Pretrain.train``; returns the losses as floats."""
    optimizer.zero_grad()
    outputs = model(
        image,
        text,
        alpha=alpha,
        mask_query_interp=mask_query_interp,
        gt_mask_indicator=gt_mask_indicator,
    )
    names = ['loss_mlm', 'loss_ita', 'loss_itm', 'loss_cam1', 'loss_cam2'][: len(outputs)]
    losses = dict(zip(names, outputs))
    loss = losses['loss_mlm'] + losses['loss_ita'] + losses['loss_itm']
    if len(outputs) == 5:
        loss = loss + 0.2 * losses['loss_cam1'] + 0.8 * losses['loss_cam2']
    loss.backward()
    optimizer.step()
    return {k: float(v.detach().reshape(-1)[0]) for k, v in losses.items()}


def box_masks(boxes_xyxy: list, size: int) -> Tensor:
    """AMC's ``pretrain_dataset`` masks of one box per image: (B, size, size), 1 on
    ``[int(y1):int(y2), int(x1):int(x2)]`` (then its bilinear resize to ``mask_size``,
    the identity at the same size)."""
    masks = torch.zeros(len(boxes_xyxy), size, size)
    for mask, (x1, y1, x2, y2) in zip(masks, boxes_xyxy):
        x1, y1 = min(size - 1, max(0, x1)), min(size - 1, max(0, y1))
        x2, y2 = min(size, max(1, x2)), min(size, max(1, y2))
        mask[int(y1) : int(y2), int(x1) : int(x2)] = 1
    return masks
