"""Grad-CAM over the activations of a convolutional layer (Selvaraju et al. 2017; CAM-WSVG)."""

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import Tensor, nn

from mmgrounding.registry import MODELS

from .grad_cam import NORMALIZATIONS, check_normalization, normalize_maps


@MODELS.register_module()
class ConvGradCAMExplainer:
    """Grad-CAM of a score over a conv layer: A = ReLU(Σ_c α_c F_c), α_c = mean_hw ∂s/∂F_c.

    F (B, C, h, w) are the activations of the target module (found by a dotted path, hooked
    only inside :meth:`watch`), s the explained score of each sample. The maps are batched:
    sample b's score must depend only on sample b's activations, so several nouns of one image
    are explained by repeating the image once per noun (see :class:`CAMWSVGGrounder`).
    The map normalisation is the attention explainer's (:func:`normalize_maps`).

    Args:
        target_layer: dotted path of the conv module or block, e.g. ``'backbone.layer3'``.
        normalize: ``'max'``, ``'minmax'`` or ``'none'`` (as :class:`GradCAMExplainer`).
    """

    NORMALIZATIONS = NORMALIZATIONS

    def __init__(self, target_layer: str, *, normalize: bool | str = 'max') -> None:
        normalize = check_normalization(normalize)
        self.target_layer = target_layer
        self.normalize = normalize

    @contextmanager
    def watch(self, model: nn.Module) -> Iterator[dict]:
        """Capture the target layer's output during the forward passes in the block.

        Yields a dict whose ``'activations'`` holds the last captured (B, C, h, w) tensor.
        Activations of a frozen model (no gradient) are made leaves that require one, so
        the scores computed from them can be differentiated.
        """
        module = model.get_submodule(self.target_layer)
        captured: dict = {}

        def hook(mod: nn.Module, args, output) -> None:
            if not isinstance(output, Tensor) or output.dim() != 4:
                raise TypeError(
                    f'{self.target_layer} ({type(mod).__name__}) must output a (B, C, h, w) '
                    f'tensor for a CNN Grad-CAM, got {type(output).__name__}'
                )
            if torch.is_grad_enabled() and not output.requires_grad:
                # a frozen model: its activations start the graph of the explained score
                output = output.detach().requires_grad_(True)
            captured['activations'] = output
            return output

        handle = module.register_forward_hook(hook)
        try:
            yield captured
        finally:
            handle.remove()

    def explain(self, score: Tensor, activations: Tensor, *, create_graph: bool = False) -> Tensor:
        """Maps of ``score`` over the activation grid.

        Args:
            score: (B,) explained scores (e.g. the logits of each sample's classes).
            activations: (B, C, h, w) captured activations (in the graph of ``score``).
            create_graph: keep the graph of the gradient so a loss on the map trains the
                layers before the target.

        Returns:
            (B, h, w) non-negative maps, normalised per sample as ``normalize`` says.
        """
        grads = torch.autograd.grad(score.sum(), activations, create_graph=create_graph)[0]
        weights = grads.mean(dim=(2, 3), keepdim=True)  # (B, C, 1, 1)
        cam = (weights * activations).sum(dim=1).clamp(min=0)  # (B, h, w)
        return normalize_maps(cam, self.normalize)
