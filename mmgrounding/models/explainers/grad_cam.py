"""Grad-CAM over the attention probabilities of one layer of a model."""
from contextlib import contextmanager
from typing import Iterator

import torch
from torch import Tensor, nn

from mmgrounding.registry import MODELS

# per-sample map normalisations shared by the attention and the convolutional explainers
NORMALIZATIONS = ('max', 'minmax', 'none')


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
        normalize: per-sample normalisation of the maps: ``'max'`` (or True) divides each map
            by its maximum (maps of all zeros stay zero); ``'minmax'`` maps each to [0, 1] as
            (A − min) / (max − min + 1e-7), as the official AMC and SelfEQ training code does;
            ``'none'`` (or False) keeps the raw maps.
    """

    NORMALIZATIONS = NORMALIZATIONS

    def __init__(self, target_layer: str, *, normalize: bool | str = 'max') -> None:
        normalize = check_normalization(normalize)
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
            (B, h, w) non-negative maps, normalised per sample as ``normalize`` says.
        """
        grads = torch.autograd.grad(score.sum(), probs, create_graph=create_graph)[0]
        cam = probs * grads.clamp(min=0)  # (B, heads, L, 1 + N)
        cam = cam[..., 1:].mean(dim=1)  # (B, L, N): drop the class token, mean over heads
        weights = text_mask.to(cam.dtype)
        cam = (cam * weights[..., None]).sum(dim=1) / weights.sum(dim=1, keepdim=True).clamp(min=1)
        cam = cam.clamp(min=0).reshape(-1, *grid_hw)  # (B, h, w)
        return normalize_maps(cam, self.normalize)


def check_normalization(normalize: bool | str) -> str:
    """``normalize`` as one of :data:`NORMALIZATIONS` (True: ``'max'``, False: ``'none'``)."""
    if normalize is True or normalize is False:
        normalize = 'max' if normalize else 'none'
    if normalize not in NORMALIZATIONS:
        raise ValueError(f'normalize must be one of {NORMALIZATIONS} (or a bool), '
                         f'got {normalize!r}')
    return normalize


def normalize_maps(cam: Tensor, mode: str) -> Tensor:
    """Per-sample normalisation of (B, h, w) maps: ``'max'``, ``'minmax'`` or ``'none'``."""
    flat = cam.flatten(1)  # (B, h*w)
    if mode == 'max':
        peak = flat.max(dim=1).values.clamp(min=1e-12)
        return cam / peak[:, None, None]
    if mode == 'minmax':
        low = flat.min(dim=1).values[:, None, None]
        high = flat.max(dim=1).values[:, None, None]
        return (cam - low) / (high - low + 1e-7)
    return cam
