"""CAM-WSVG's fusion (§3.4): attention layers over visual, text and CAM tokens with [REG]."""

from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmgrounding.registry import MODELS


@MODELS.register_module()
class RegTokenFusion(BaseModule):
    """One [REG] token per attention layer; the [REG] outputs are merged into one vector.

    With ``num_layers`` = the number of visual levels (paper: 3), layer i attends over
    ``[REG_i] + level i's visual tokens + all text tokens + all CAM tokens``; with
    ``num_layers`` = 1 the single layer takes the visual tokens of every level (Table 5's
    "one attention layer"). Detector-candidate tokens, when given, follow the CAM tokens
    in every layer. Each visual token gets its (learned) level embedding; each
    token kind a type embedding. The [REG] outputs are merged by ``'concat'`` (L·C_p) or
    ``'conv'`` (a 1×1 convolution over the L [REG] outputs stacked as channels: one
    learned weight per layer, C_p out; Table 5).

    Each "attention layer" is ``depth`` ``nn.TransformerEncoderLayer`` s (pre-norm). With
    ``text_reg`` the [REG] tokens start from the learned embedding plus a projection of the
    query's pooled text feature (interpretation): with a single transformer layer a constant
    [REG] query attends to the same tokens for every query, so the box could not depend on
    the phrase–image match; TransVG gets that interaction from 6 layers.

    Args:
        dim: C_p.
        num_levels: visual levels given to :meth:`forward`.
        num_layers: 1 or ``num_levels``.
        merge: ``'concat'`` or ``'conv'``.
        depth: transformer layers per attention layer.
        num_heads: attention heads.
        ffn_dim: feed-forward width.
        dropout: dropout of the transformer layers.
        text_reg: condition the [REG] tokens on the pooled text (``forward``'s ``text_pooled``).
        init_cfg: mmengine init config.
    """

    MERGES = ('concat', 'conv')
    KINDS = ('reg', 'visual', 'text', 'cam', 'proposal')

    def __init__(
        self,
        *,
        dim: int = 256,
        num_levels: int = 3,
        num_layers: int = 3,
        merge: str = 'concat',
        depth: int = 1,
        num_heads: int = 8,
        ffn_dim: int = 1024,
        dropout: float = 0.1,
        text_reg: bool = False,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_layers not in (1, num_levels):
            raise ValueError(f'num_layers must be 1 or num_levels={num_levels}, got {num_layers}')
        if merge not in self.MERGES:
            raise ValueError(f'merge must be one of {self.MERGES}, got {merge!r}')
        self.dim = dim
        self.num_levels = num_levels
        self.num_layers = num_layers
        self.merge = merge
        self.reg_tokens = nn.Parameter(torch.zeros(num_layers, dim))
        self.level_embed = nn.Parameter(torch.zeros(num_levels, dim))
        self.type_embed = nn.Embedding(len(self.KINDS), dim)
        nn.init.normal_(self.reg_tokens, std=0.02)
        nn.init.normal_(self.level_embed, std=0.02)
        self.layers = nn.ModuleList(
            nn.TransformerEncoder(
                nn.TransformerEncoderLayer(
                    dim,
                    num_heads,
                    ffn_dim,
                    dropout,
                    activation='gelu',
                    batch_first=True,
                    norm_first=True,
                ),
                depth,
                enable_nested_tensor=False,
            )
            for _ in range(num_layers)
        )
        self.conv = nn.Conv1d(num_layers, 1, 1) if merge == 'conv' else None
        self.text_reg = nn.Linear(dim, dim * num_layers) if text_reg else None

    @property
    def out_dim(self) -> int:
        return self.dim * self.num_layers if self.merge == 'concat' else self.dim

    def token_layout(
        self,
        layer: int,
        visual_lengths: Sequence[int],
        text_length: int,
        cam_length: int,
        proposal_length: int = 0,
    ) -> dict[str, tuple[int, int]]:
        """The ``[start, end)`` of each token kind in the sequence of attention layer
        ``layer``: ``'reg'``, ``'visual<l>'`` per level it sees, ``'text'``, ``'cam'`` and,
        with candidate tokens, ``'proposal'``."""
        levels = range(self.num_levels) if self.num_layers == 1 else [layer]
        layout, start = {'reg': (0, 1)}, 1
        for level in levels:
            layout[f'visual{level}'] = (start, start + visual_lengths[level])
            start += visual_lengths[level]
        layout['text'] = (start, start + text_length)
        start += text_length
        layout['cam'] = (start, start + cam_length)
        if proposal_length:
            start += cam_length
            layout['proposal'] = (start, start + proposal_length)
        return layout

    def _sequence(
        self,
        layer: int,
        visual: Sequence[Tensor],
        text: Tensor,
        text_mask: Tensor,
        cam: Tensor,
        cam_mask: Tensor,
        reg_offset: Optional[Tensor] = None,
        proposals: Optional[Tensor] = None,
        proposal_mask: Optional[Tensor] = None,
    ) -> tuple[Tensor, Tensor]:
        """Tokens (P, S, C_p) and key padding mask (P, S) (True = ignored) of one layer."""
        num = text.shape[0]
        types = self.type_embed.weight
        levels = range(self.num_levels) if self.num_layers == 1 else [layer]
        reg = (self.reg_tokens[layer] + types[0]).expand(num, 1, -1)  # (P, 1, C_p)
        if reg_offset is not None:
            reg = reg + reg_offset[:, None]
        parts = [reg]
        masks = [text_mask.new_zeros((num, 1))]
        for level in levels:
            parts.append(visual[level] + self.level_embed[level] + types[1])
            masks.append(text_mask.new_zeros(visual[level].shape[:2]))
        parts += [text + types[2], cam + types[3]]
        masks += [~text_mask, ~cam_mask]
        if proposals is not None:
            parts.append(proposals + types[4])
            masks.append(~proposal_mask)
        return torch.cat(parts, dim=1), torch.cat(masks, dim=1)

    @staticmethod
    def _reg_output(encoder: nn.TransformerEncoder, tokens: Tensor, padding: Tensor) -> Tensor:
        """``encoder(tokens, src_key_padding_mask=padding)[:, 0]``, the [REG] output (P, C_p),
        with the last layer computed at the [REG] position only: no other position's output
        is read after it, so their attention rows and feed-forward are skipped (the same
        function, not the same rounding; at CAM-WSVG's sizes the fusion's cost falls several
        times, benchmarks/camwsvg_step.py)."""
        *first, last = encoder.layers
        for layer in first:
            tokens = layer(tokens, src_key_padding_mask=padding)

        def attend(query: Tensor, memory: Tensor) -> Tensor:
            out = last.self_attn(
                query, memory, memory, key_padding_mask=padding, need_weights=False
            )[0]
            return last.dropout1(out)

        def feed_forward(x: Tensor) -> Tensor:
            x = last.linear2(last.dropout(last.activation(last.linear1(x))))
            return last.dropout2(x)

        reg = tokens[:, :1]  # (P, 1, C_p)
        if last.norm_first:
            normed = last.norm1(tokens)
            reg = reg + attend(normed[:, :1], normed)
            reg = reg + feed_forward(last.norm2(reg))
        else:
            reg = last.norm1(reg + attend(reg, tokens))
            reg = last.norm2(reg + feed_forward(reg))
        reg = reg[:, 0]
        return reg if encoder.norm is None else encoder.norm(reg)

    def forward(
        self,
        visual: Sequence[Tensor],
        text: Tensor,
        text_mask: Tensor,
        cam: Tensor,
        cam_mask: Tensor,
        text_pooled: Optional[Tensor] = None,
        proposals: Optional[Tensor] = None,
        proposal_mask: Optional[Tensor] = None,
        reg_context: Optional[Tensor] = None,
    ) -> Tensor:
        """Merged [REG] outputs.

        Args:
            visual: ``num_levels`` (P, N_l, C_p) visual tokens of each query's image.
            text: (P, L, C_p) text tokens; text_mask (P, L) bool, True at real tokens.
            cam: (P, M, C_p) CAM tokens; cam_mask (P, M) bool, True at real tokens (all
                False for a query without CAM tokens).
            text_pooled: (P, C_p) pooled text features (needed with ``text_reg``).
            proposals: (P, M, C_p) detector-candidate tokens, or None; proposal_mask (P, M)
                bool, True at real candidates.
            reg_context: (P, C_p) added to every [REG] token (CAM-WSVG's select-then-refine:
                the code of the proposal the box is regressed from), or None.

        Returns:
            (P, out_dim).
        """
        if len(visual) != self.num_levels:
            raise ValueError(f'{len(visual)} visual levels for num_levels={self.num_levels}')
        offsets = [None] * self.num_layers
        if self.text_reg is not None:
            if text_pooled is None:
                raise ValueError('RegTokenFusion(text_reg=True) needs text_pooled')
            offsets = self.text_reg(text_pooled).chunk(self.num_layers, dim=1)  # (P, C_p) each
        if reg_context is not None:
            offsets = [reg_context if o is None else o + reg_context for o in offsets]
        regs = []
        for i, layer in enumerate(self.layers):
            tokens, padding = self._sequence(
                i,
                visual,
                text,
                text_mask,
                cam,
                cam_mask,
                reg_offset=offsets[i],
                proposals=proposals,
                proposal_mask=proposal_mask,
            )
            regs.append(self._reg_output(layer, tokens, padding))  # (P, C_p)
        stacked = torch.stack(regs, dim=1)  # (P, layers, C_p)
        if self.conv is not None:
            return self.conv(stacked)[:, 0]  # (P, C_p)
        return stacked.flatten(1)  # (P, layers * C_p)
