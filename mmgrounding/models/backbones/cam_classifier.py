"""The image classifier whose Grad-CAM CAM-WSVG reads: an mmdet ResNet, average pool, linear."""

from typing import Optional

import torch
from mmengine.model import BaseModule
from mmengine.runner import load_checkpoint
from torch import Tensor, nn

from mmgrounding.registry import MODELS


@MODELS.register_module()
class CAMClassifier(BaseModule):
    """Class scores of an image: ResNet's last stage, global average pool, one linear layer.

    At paper scale this is torchvision's ImageNet ResNet-50 (``backbone.init_cfg`` a local
    checkpoint, 1000 classes, ``head`` its ``fc``); on SynthGround it is a small ResNet that
    ``tools/train_cam_classifier.py`` trains on the image-level nouns of the captions.

    Args:
        backbone: mmdet ``ResNet`` config (only its last ``out_indices`` is used).
        in_channels: channels of that stage.
        num_classes: C.
        class_names: the C class names (WordNet ids ``'n02084071'``, synset names
            ``'dog.n.01'`` or plain nouns).
        checkpoint: a local file of this module's state dict (``state_dict`` key or plain),
            loaded at build time; None leaves the weights to ``init_cfg``.
        frozen: no gradients to the weights and eval mode always (CAM-WSVG's classifier
            stays fixed).
        init_cfg: mmengine init config.
    """

    def __init__(
        self,
        *,
        backbone: dict,
        in_channels: int,
        num_classes: int,
        class_names: Optional[list] = None,
        checkpoint: Optional[str] = None,
        frozen: bool = True,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(f'{len(class_names)} class names for {num_classes} classes')
        self.backbone = MODELS.build(backbone)
        self.head = nn.Linear(in_channels, num_classes)
        self.class_names = list(class_names) if class_names is not None else None
        self.frozen = frozen
        self.checkpoint = checkpoint
        if checkpoint is not None:
            load_checkpoint(self, checkpoint, map_location='cpu', strict=True)
        if frozen:
            self.requires_grad_(False)

    def init_weights(self) -> None:
        if self.checkpoint is None:  # a loaded classifier is not re-initialised
            super().init_weights()

    def train(self, mode: bool = True) -> 'CAMClassifier':
        return super().train(mode and not self.frozen)

    def forward(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) normalised images -> (B, C) logits."""
        feature = self.backbone(images)[-1]  # (B, C', h, w)
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(feature, 1), 1))
