"""Grad-CAM over the attention probabilities of one layer of a model."""
from contextlib import contextmanager
from typing import Iterator

import torch
from torch import Tensor, nn

from mmgrounding.registry import MODELS


@MODELS.register_module()
class GradCAMExplainer:
    """Grad-CAM of a score over an attention layer's probabilities: A = ReLU(F ⊙ max(G, 0)).

    F are the attention probabilities (B, heads, L, 1 + N) of the target module (queries: L
    text tokens; keys: the image's class token and N patches), G their gradient with respect
    to the explained score; the product is averaged over heads and over the valid text tokens,
    the class-token column dropped, and the N patches reshaped to the (h, w) grid.

    The target module is found by a dotted path from the model the explainer is given and
    must compute its probabilities explicitly when its ``keep_probs`` flag is set (see
    :class:`mmgrounding.models.fusion.MultiHeadAttention`): fused attention kernels never
    materialise them. The flag and the hook that captures them exist only inside
    :meth:`watch`.

    Args:
        target_layer: dotted path of the attention module, e.g.
            ``'fusion.layers.2.crossattention.self'`` (ALBEF-base: the 3rd cross-attention).
        normalize: divide each map by its maximum (maps of all zeros stay zero).
    """

    def __init__(self, target_layer: str, *, normalize: bool = True) -> None:
        self.target_layer = target_layer
        self.normalize = normalize

    @contextmanager
    def watch(self, model: nn.Module) -> Iterator[dict]:
        """Capture the target layer's probabilities during the forward passes in the block.

        Yields a dict whose ``'probs'`` holds the last captured (B, heads, L, 1 + N) tensor.
        """
        module = model.get_submodule(self.target_layer)
        if not hasattr(module, 'keep_probs'):
            raise TypeError(f'{self.target_layer} ({type(module).__name__}) cannot expose its '
                            'attention probabilities (no keep_probs flag)')
        captured: dict = {}

        def hook(mod: nn.Module, args, output) -> None:
            captured['probs'] = mod.probs

        module.keep_probs = True
        handle = module.register_forward_hook(hook)
        try:
            yield captured
        finally:
            handle.remove()
            module.keep_probs = False
            module.probs = None

    def explain(self,
                score: Tensor,
                probs: Tensor,
                *,
                text_mask: Tensor,
                grid_hw: tuple[int, int],
                create_graph: bool = False) -> Tensor:
        """Maps of ``score`` over the patch grid.

        Args:
            score: (B,) the explained scores (e.g. ITM positive logits); sample b's score must
                depend only on sample b's probabilities (true for per-pair fusion).
            probs: (B, heads, L, 1 + N) captured probabilities.
            text_mask: (B, L) bool, True for real text tokens.
            grid_hw: (h, w) with h * w = N.
            create_graph: keep the graph of the gradient so a loss on the map trains the model
                (the double backward runs only through the layers after the target).

        Returns:
            (B, h, w) non-negative maps, each divided by its maximum when ``normalize``.
        """
        grads = torch.autograd.grad(score.sum(), probs, create_graph=create_graph)[0]
        cam = probs * grads.clamp(min=0)  # (B, heads, L, 1 + N)
        cam = cam[..., 1:].mean(dim=1)  # (B, L, N): drop the class token, mean over heads
        weights = text_mask.to(cam.dtype)
        cam = (cam * weights[..., None]).sum(dim=1) / weights.sum(dim=1, keepdim=True).clamp(min=1)
        cam = cam.clamp(min=0).reshape(-1, *grid_hw)  # (B, h, w)
        if self.normalize:
            peak = cam.flatten(1).max(dim=1).values.clamp(min=1e-12)
            cam = cam / peak[:, None, None]
        return cam
