"""ALBEF's fusion encoder: BERT layers with cross-attention to the image tokens.

Parameter names follow Hugging Face BERT (``attention.self.query`` ...,
``crossattention.self.key`` ..., ``intermediate.dense``, ``output.LayerNorm``), which is how
ALBEF's checkpoints name layers 6–11 of its text encoder. Attention uses the fused
``scaled_dot_product_attention`` unless a layer is asked for its probabilities (the layer a
Grad-CAM explainer explains), in which case it computes them explicitly and returns them.

The image tokens' cross-attention keys and values depend only on the image, so passes over
the same images (ALBEF's ITM positives, its text negatives and MLM) can share them:
:meth:`ALBEFFusionEncoder.image_keys_values` computes them once per image and ``forward``
takes them for several text rows per image without copying them (``image_groups``: the
rows' queries of one image meet its keys in one attention call; cross-attention treats each
query on its own, so this is the same attention).
:meth:`ALBEFFusionEncoder.image_keys_values_with_frozen_copy`
also returns a second copy whose gradient reaches only the projections, not the image tokens
(what ITM's negative images need: their tokens are detached), from the same products.
"""

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn
from transformers import BertConfig
from transformers.models.bert.modeling_bert import BertIntermediate, BertOutput, BertSelfOutput

from mmgrounding.registry import MODELS


class _LinearWithFrozenCopy(torch.autograd.Function):
    """``F.linear(x, weight, bias)`` as two outputs of one product: the first's gradient reaches
    ``x``, ``weight`` and ``bias``, the second's only ``weight`` and ``bias`` (as
    ``F.linear(x.detach(), weight, bias)`` would). The backward takes one weight-gradient
    product over the summed output gradients instead of one per output."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor | None) -> tuple[Tensor, Tensor]:
        out = F.linear(x, weight, bias)  # under autocast: the autocast dtype
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return out, out.clone()

    @staticmethod
    def backward(ctx, grad: Tensor, grad_frozen: Tensor) -> tuple:
        x, weight = ctx.saved_tensors
        dtype = grad.dtype  # the forward's compute dtype; autograd casts back to the inputs'
        # the two gradients summed in float32 (one rounding to the compute dtype)
        total = (grad.float() + grad_frozen.float()).to(dtype).reshape(-1, grad.shape[-1])
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = grad @ weight.to(dtype)
        if ctx.needs_input_grad[1]:
            grad_w = total.T @ x.reshape(-1, x.shape[-1]).to(dtype)  # (out, in)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = total.sum(0)
        return grad_x, grad_w, grad_b


class MultiHeadAttention(nn.Module):
    """Query from ``hidden``, keys and values from ``context`` (itself for self-attention).

    Set ``keep_probs = True`` to compute the attention explicitly and keep the probabilities
    in ``self.probs`` (B, heads, L, N), part of the autograd graph; otherwise the fused kernel
    runs and nothing is kept. ``dropout`` drops attention probabilities in training (BERT's
    ``attention_probs_dropout_prob``); the kept ``probs`` are those before the dropout, as in
    ALBEF's saved attention maps.
    """

    def __init__(
        self, hidden_size: int, num_heads: int, context_size: int, *, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.dropout = dropout
        self.query = nn.Linear(hidden_size, hidden_size)
        self.key = nn.Linear(context_size, hidden_size)
        self.value = nn.Linear(context_size, hidden_size)
        self.keep_probs = False
        self.probs: Tensor | None = None

    def _heads(self, x: Tensor) -> Tensor:
        batch, num, dim = x.shape
        return x.view(batch, num, self.num_heads, dim // self.num_heads).transpose(1, 2)

    def keys_values(self, context: Tensor) -> tuple[Tensor, Tensor]:
        """Keys and values (B, heads, N, d) of context tokens (B, N, C)."""
        return self._heads(self.key(context)), self._heads(self.value(context))

    def keys_values_with_frozen_copy(self, context: Tensor) -> tuple[tuple, tuple]:
        """:meth:`keys_values` twice from one product each: the first pair's gradient reaches
        ``context`` and the projections, the second's only the projections (the keys and
        values of ``context.detach()``)."""
        k, k_frozen = _LinearWithFrozenCopy.apply(context, self.key.weight, self.key.bias)
        v, v_frozen = _LinearWithFrozenCopy.apply(context, self.value.weight, self.value.bias)
        return (self._heads(k), self._heads(v)), (self._heads(k_frozen), self._heads(v_frozen))

    def forward(
        self,
        hidden: Tensor,
        context: Tensor | None,
        mask: Tensor | None = None,
        *,
        context_kv: tuple[Tensor, Tensor] | None = None,
        context_groups: list | None = None,
    ) -> Tensor:
        """hidden (B, L, D), context (B, N, C), mask (B, N) bool (True = attend) -> (B, L, D).

        ``context_kv``: the context's :meth:`keys_values`, computed before (``context`` is
        then not used and may be None). ``context_groups``: instead, ``[((k, v), r), ...]``:
        the rows of ``hidden`` in consecutive groups, group g of r_g · B_g rows over the B_g
        contexts of its keys and values, its row i attending to context i % B_g; the r_g rows
        of a context meet its keys and values in one attention call, without copies of them
        (cross-attention treats each query on its own). ``mask`` must then be None.
        """
        q = self._heads(self.query(hidden))  # (B, heads, L, d)
        if context_groups is None:
            kv = self.keys_values(context) if context_kv is None else context_kv
            context_groups = [(kv, 1)]
        elif mask is not None:
            raise ValueError('context_groups take no mask')
        bias = None
        if mask is not None:
            bias = torch.zeros(mask.shape, dtype=q.dtype, device=q.device)
            bias = bias.masked_fill(~mask, torch.finfo(q.dtype).min)[:, None, None, :]
        sizes = [kv[0].shape[0] * r for kv, r in context_groups]
        if sum(sizes) != q.shape[0]:
            raise ValueError(f'context groups of {sizes} rows for {q.shape[0]} rows')
        queries = q.split(sizes)
        dropout = self.dropout if self.training else 0.0
        if self.keep_probs:
            probs = []  # per row (B, heads, L, N): what the explainer differentiates
            for q_g, ((k, _), r) in zip(queries, context_groups):
                scores = _group(q_g, r) @ k.transpose(-1, -2) * q.shape[-1] ** -0.5
                if bias is not None:
                    scores = scores + bias
                probs.append(_ungroup(scores.softmax(dim=-1), r))  # (r B', heads, L, N)
            self.probs = probs[0] if len(probs) == 1 else torch.cat(probs)
            outs = []
            for p_g, ((_, v), r) in zip(self.probs.split(sizes), context_groups):
                p_g = _group(p_g, r)
                if dropout > 0:
                    p_g = F.dropout(p_g, p=dropout)
                outs.append(_ungroup(p_g @ v, r))
        else:
            self.probs = None
            outs = [
                _ungroup(
                    F.scaled_dot_product_attention(
                        _group(q_g, r), k, v, attn_mask=bias, dropout_p=dropout
                    ),
                    r,
                )
                for q_g, ((k, v), r) in zip(queries, context_groups)
            ]
        out = outs[0] if len(outs) == 1 else torch.cat(outs)  # (B, heads, L, d)
        batch, _, length, _ = out.shape
        return out.transpose(1, 2).reshape(batch, length, -1)  # (B, L, D)


def _group(x: Tensor, r: int) -> Tensor:
    """(r B', heads, L, X) rows in r blocks of B' -> (B', heads, r L, X): each context's rows
    side by side along the query axis."""
    if r == 1:
        return x
    rows, heads, length, last = x.shape
    x = x.view(r, rows // r, heads, length, last).permute(1, 2, 0, 3, 4)
    return x.reshape(rows // r, heads, r * length, last)


def _ungroup(x: Tensor, r: int) -> Tensor:
    """The inverse of :func:`_group`: (B', heads, r L, X) -> (r B', heads, L, X)."""
    if r == 1:
        return x
    contexts, heads, length, last = x.shape
    x = x.view(contexts, heads, r, length // r, last).permute(2, 0, 1, 3, 4)
    return x.reshape(r * contexts, heads, length // r, last)


class AttentionBlock(nn.Module):
    """Attention plus BERT's output projection, residual and LayerNorm."""

    def __init__(
        self, config: BertConfig, context_size: int, *, attention_dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.self = MultiHeadAttention(
            config.hidden_size, config.num_attention_heads, context_size, dropout=attention_dropout
        )
        self.output = BertSelfOutput(config)

    def forward(
        self,
        hidden: Tensor,
        context: Tensor | None,
        mask: Tensor | None,
        *,
        context_kv: tuple[Tensor, Tensor] | None = None,
        context_groups: list | None = None,
    ) -> Tensor:
        attended = self.self(
            hidden, context, mask, context_kv=context_kv, context_groups=context_groups
        )
        return self.output(attended, hidden)


class FusionLayer(nn.Module):
    """Self-attention over text, cross-attention to image tokens, feed-forward."""

    def __init__(
        self, config: BertConfig, image_size: int, *, attention_dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.attention = AttentionBlock(
            config, config.hidden_size, attention_dropout=attention_dropout
        )
        self.crossattention = AttentionBlock(
            config, image_size, attention_dropout=attention_dropout
        )
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(
        self,
        text: Tensor,
        text_mask: Tensor,
        image: Tensor | None,
        image_mask: Tensor | None,
        *,
        image_kv: tuple[Tensor, Tensor] | None = None,
        image_groups: list | None = None,
    ) -> Tensor:
        x = self.attention(text, text, text_mask)
        x = self.crossattention(
            x, image, image_mask, context_kv=image_kv, context_groups=image_groups
        )
        return self.output(self.intermediate(x), x)


@MODELS.register_module()
class ALBEFFusionEncoder(BaseModule):
    """Stack of :class:`FusionLayer` (ALBEF-base: BERT layers 6–11).

    Args:
        config: ``BertConfig`` fields (hidden size, heads, intermediate size, dropout).
        num_layers: fusion layers.
        image_dim: width of the image tokens (the cross-attention keys' input).
        attention_dropout: apply ``config``'s ``attention_probs_dropout_prob`` to the
            attention probabilities of every layer in training, as BERT and ALBEF do. False
            (the default, what every config trained so far) drops none.
        init_cfg: mmengine init config.
    """

    def __init__(
        self,
        *,
        config: dict | None = None,
        num_layers: int = 6,
        image_dim: int = 768,
        attention_dropout: bool = False,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.config = BertConfig(**(config or {}))
        p = self.config.attention_probs_dropout_prob if attention_dropout else 0.0
        self.layers = nn.ModuleList(
            FusionLayer(self.config, image_dim, attention_dropout=p) for _ in range(num_layers)
        )
        self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=self.config.initializer_range)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def image_keys_values(self, image: Tensor) -> list[tuple[Tensor, Tensor]]:
        """Every layer's cross-attention keys and values (B, heads, N, d) of image tokens
        (B, N, C), for passes over the same images (``forward(image_kv=...)``)."""
        return [layer.crossattention.self.keys_values(image) for layer in self.layers]

    def image_keys_values_with_frozen_copy(self, image: Tensor) -> tuple[list, list]:
        """:meth:`image_keys_values` of ``image`` and of ``image.detach()``, from one product
        per projection (the second list's gradient reaches the projections only)."""
        pairs = [
            layer.crossattention.self.keys_values_with_frozen_copy(image) for layer in self.layers
        ]
        return [kv for kv, _ in pairs], [frozen for _, frozen in pairs]

    def forward(
        self,
        text: Tensor,
        text_mask: Tensor,
        image: Tensor | None = None,
        image_mask: Tensor | None = None,
        *,
        image_kv: list[tuple[Tensor, Tensor]] | None = None,
        image_groups: list | None = None,
    ) -> Tensor:
        """text (B, L, D) with mask (B, L) bool, image tokens (B, N, C) -> (B, L, D).

        Args:
            image_kv: :meth:`image_keys_values` of the B images instead of ``image``.
            image_groups: instead, ``[(image_kv, r), ...]``: the text rows in consecutive
                groups, group g of r_g · B_g rows over the B_g images of its ``image_kv``,
                its row i over image i % B_g (e.g. ALBEF's positive pairs and the pairs of the
                same images with their negative texts: r = 2); the images' keys and values
                serve their r rows without being copied.
        """
        if sum(x is not None for x in (image, image_kv, image_groups)) != 1:
            raise ValueError('give one of the image tokens, their image_kv or image_groups')
        for i, layer in enumerate(self.layers):
            kv = None if image_kv is None else image_kv[i]
            groups = None
            if image_groups is not None:
                groups = [(group_kv[i], r) for group_kv, r in image_groups]
            text = layer(text, text_mask, image, image_mask, image_kv=kv, image_groups=groups)
        return text
