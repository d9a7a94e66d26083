"""Vision Transformer with the parameter names of timm's ``VisionTransformer``.

ALBEF's image encoder uses timm's names (``patch_embed.proj``, ``cls_token``, ``pos_embed``,
``blocks.{i}.attn.qkv`` ...), so official checkpoints load into this module unchanged. timm
itself cannot be imported on machines without a torchvision build for the installed torch
(every timm module imports torchvision), hence this compact equivalent. Attention runs through
``F.scaled_dot_product_attention`` (fused kernels; no attention map is needed from the image
encoder).
"""
import math

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmgrounding.registry import MODELS


class PatchEmbed(nn.Module):

    def __init__(self, patch_size: int, in_chans: int, embed_dim: int) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: Tensor) -> Tensor:
        x = self.proj(x)  # (B, D, h, w)
        return x.flatten(2).transpose(1, 2)  # (B, h*w, D)


class Attention(nn.Module):

    def __init__(self, dim: int, num_heads: int, *, qkv_bias: bool = True) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        batch, num, dim = x.shape
        qkv = self.qkv(x).reshape(batch, num, 3, self.num_heads, dim // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, heads, N, d)
        out = F.scaled_dot_product_attention(q, k, v)  # (B, heads, N, d)
        return self.proj(out.transpose(1, 2).reshape(batch, num, dim))

    def forward_class_token(self, x: Tensor) -> Tensor:
        """The output (B, 1, D) of the class token's query alone (keys and values: all N).

        The row ``forward(x)[:, :1]`` computes, without the queries, projections and outputs
        of the other N - 1 tokens.
        """
        batch, num, dim = x.shape
        heads, head_dim = self.num_heads, dim // self.num_heads
        weight, bias = self.qkv.weight, self.qkv.bias
        q = F.linear(x[:, :1], weight[:dim], None if bias is None else bias[:dim])
        kv = F.linear(x, weight[dim:], None if bias is None else bias[dim:])
        q = q.reshape(batch, 1, heads, head_dim).transpose(1, 2)  # (B, heads, 1, d)
        k, v = kv.reshape(batch, num, 2, heads, head_dim).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)  # (B, heads, 1, d)
        return self.proj(out.transpose(1, 2).reshape(batch, 1, dim))


class Mlp(nn.Module):

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.act(self.fc1(x)))


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

    def forward_class_token(self, x: Tensor) -> Tensor:
        """``forward(x)[:, :1]`` (B, 1, D) without the other tokens' outputs."""
        cls = x[:, :1] + self.attn.forward_class_token(self.norm1(x))
        return cls + self.mlp(self.norm2(cls))


def interpolate_pos_embed(pos_embed: Tensor, grid_hw: tuple[int, int]) -> Tensor:
    """Resize a (1, 1 + h*w, D) position embedding (class token first) to another grid.

    Args:
        pos_embed: the embedding of a square source grid.
        grid_hw: target (h, w) patch grid.

    Returns:
        (1, 1 + h*w, D), bicubic on the patch part; the class token's row is kept.
    """
    cls_pos, patch_pos = pos_embed[:, :1], pos_embed[:, 1:]
    src = int(math.isqrt(patch_pos.shape[1]))
    if src * src != patch_pos.shape[1]:
        raise ValueError(f'source position embedding of {patch_pos.shape[1]} patches is not a '
                         'square grid')
    if (src, src) == tuple(grid_hw):
        return pos_embed
    dim = patch_pos.shape[-1]
    grid = patch_pos.reshape(1, src, src, dim).permute(0, 3, 1, 2)  # (1, D, s, s)
    grid = F.interpolate(grid.float(), size=grid_hw, mode='bicubic', align_corners=False)
    patch_pos = grid.permute(0, 2, 3, 1).reshape(1, grid_hw[0] * grid_hw[1], dim)
    return torch.cat([cls_pos, patch_pos.to(pos_embed.dtype)], dim=1)


@MODELS.register_module()
class VisionTransformer(BaseModule):
    """ViT image encoder returning all tokens (class token first).

    Args:
        img_size: training image side in pixels (sets the position-embedding grid).
        patch_size: patch side in pixels.
        embed_dim: token width D.
        depth: number of blocks.
        num_heads: attention heads.
        mlp_ratio: MLP hidden width / D.
        init_cfg: mmengine init config (e.g. a ``Pretrained`` checkpoint).
    """

    def __init__(self,
                 *,
                 img_size: int = 256,
                 patch_size: int = 16,
                 in_chans: int = 3,
                 embed_dim: int = 768,
                 depth: int = 12,
                 num_heads: int = 12,
                 mlp_ratio: float = 4.0,
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.patch_size = patch_size
        self.embed_dim = embed_dim
        self.grid_size = img_size // patch_size
        self.patch_embed = PatchEmbed(patch_size, in_chans, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.grid_size**2, embed_dim))
        self.blocks = nn.ModuleList(Block(embed_dim, num_heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.apply(self._init_linear)

    @staticmethod
    def _init_linear(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.trunc_normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)

    def patch_grid(self, image_hw: tuple[int, int]) -> tuple[int, int]:
        """(h, w) patch grid of an (H, W) input."""
        return image_hw[0] // self.patch_size, image_hw[1] // self.patch_size

    def forward(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) -> (B, 1 + h*w, D) tokens, class token first."""
        x = self._embed(images)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)

    def forward_class_token(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) -> (B, D): ``forward(images)[:, 0]``, the class token alone.

        The last block computes only the class token's query, attention output and MLP (what
        ALBEF's momentum teacher reads): about 1/depth of the forward pass less.
        """
        x = self._embed(images)
        for block in self.blocks[:-1]:
            x = block(x)
        if len(self.blocks):
            x = self.blocks[-1].forward_class_token(x)
        return self.norm(x[:, 0])

    def _embed(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) -> (B, 1 + h*w, D): the class token and the patches, positioned."""
        grid_hw = self.patch_grid(images.shape[-2:])
        x = self.patch_embed(images)  # (B, h*w, D)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        pos = interpolate_pos_embed(self.pos_embed, grid_hw)
        return torch.cat([cls, x], dim=1) + pos
