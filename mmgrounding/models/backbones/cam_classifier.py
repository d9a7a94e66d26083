"""The image classifier whose Grad-CAM CAM-WSVG reads: an mmdet ResNet, average pool, linear."""

from typing import Optional

from mmengine.model import BaseModule
from mmengine.runner import load_checkpoint
from torch import Tensor, nn

from mmgrounding.registry import MODELS


@MODELS.register_module()
class CAMClassifier(BaseModule):
    """Class scores of an image: ResNet's last stage, global pooling, one linear layer.

    At paper scale this is torchvision's ImageNet ResNet-50 (``backbone.init_cfg`` a local
    checkpoint, 1000 classes, ``head`` its ``fc``); on SynthGround it is a small ResNet that
    ``tools/train_cam_classifier.py`` trains on the image-level nouns of the captions.

    Args:
        backbone: mmdet ``ResNet`` config (only its last ``out_indices`` is used).
        in_channels: channels of that stage.
        num_classes: C.
        class_names: the C class names (WordNet ids ``'n02084071'``, synset names
            ``'dog.n.01'`` or plain nouns).
        class_names_file: instead of ``class_names``, a text file whose lines start with the
            class names in class order (ImageNet's ``LOC_synset_mapping.txt``:
            ``n01440764 tench, Tinca tinca``).
        checkpoint: a local file of the weights, loaded at build time; None leaves them to
            ``init_cfg``.
        checkpoint_format: ``'mmgrounding'`` (this module's state dict, as written by
            ``tools/train_cam_classifier.py``) or ``'torchvision'`` (an ImageNet ResNet's
            ``conv1 ... layer4, fc``: ``fc`` becomes ``head``, the rest ``backbone``).
        pool: ``'avg'`` (global average pooling, the ResNet head) or ``'max'`` (global max
            pooling: the "is there an X anywhere" of weakly supervised localisation from image
            labels, Oquab et al. CVPR 2015; the small SynthGround classifier).
        stem_pool: keep ResNet's stem max pooling; False removes it (strides halve: a 14 px
            SynthGround shape keeps 7 px after the stem instead of 3.5).
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
        class_names_file: Optional[str] = None,
        checkpoint: Optional[str] = None,
        checkpoint_format: str = 'mmgrounding',
        pool: str = 'avg',
        stem_pool: bool = True,
        frozen: bool = True,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if class_names_file is not None:
            with open(class_names_file, encoding='utf-8') as f:
                class_names = [line.split()[0] for line in f if line.strip()]
        if pool not in ('avg', 'max'):
            raise ValueError(f"pool must be 'avg' or 'max', got {pool!r}")
        self.pool = pool
        if checkpoint_format not in ('mmgrounding', 'torchvision'):
            raise ValueError(f'unknown checkpoint_format {checkpoint_format!r}')
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(f'{len(class_names)} class names for {num_classes} classes')
        self.backbone = MODELS.build(backbone)
        if not stem_pool:
            self.backbone.maxpool = nn.Identity()
        self.head = nn.Linear(in_channels, num_classes)
        self.class_names = list(class_names) if class_names is not None else None
        self.frozen = frozen
        self.checkpoint = checkpoint
        if checkpoint is not None:
            revise = (
                [(r'^fc\.', 'head.'), (r'^(?!head\.)', 'backbone.')]
                if checkpoint_format == 'torchvision'
                else [(r'^module\.', '')]
            )
            load_checkpoint(self, checkpoint, map_location='cpu', strict=True, revise_keys=revise)
        if frozen:
            self.requires_grad_(False)
            self.eval()

    def init_weights(self) -> None:
        if self.checkpoint is None:  # a loaded classifier is not re-initialised
            super().init_weights()

    def train(self, mode: bool = True) -> 'CAMClassifier':
        return super().train(mode and not self.frozen)

    def forward(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) normalised images -> (B, C) logits."""
        feature = self.backbone(images)[-1]  # (B, C', h, w)
        if self.pool == 'max':
            pooled = feature.amax(dim=(2, 3))  # (B, C')
        else:
            pooled = feature.mean(dim=(2, 3))
        return self.head(pooled)
