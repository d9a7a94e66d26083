"""The interface every grounder implements."""

from abc import ABCMeta, abstractmethod
from typing import Optional, Union

from mmengine.model import BaseModel
from torch import Tensor

from mmgrounding.structures import SampleList


class BaseGrounder(BaseModel, metaclass=ABCMeta):
    """A model that grounds the phrases of a caption in its image.

    ``loss`` returns a dict of named losses; ``predict`` fills, per sample, ``pred_heatmaps``
    (P, h, w) spanning the original image and/or ``pred_boxes`` (P, K, 4) with ``pred_scores``
    (P, K) in original image pixels (see :class:`GroundingDataSample`).
    """

    def forward(
        self,
        inputs: Optional[Tensor] = None,
        data_samples: Optional[SampleList] = None,
        mode: str = 'tensor',
        **kwargs,
    ) -> Union[dict, SampleList, Tensor, tuple]:
        # ``inputs`` is None for the grounders of cached region features (InfoGround, CKD,
        # ReIR): a pipeline without LoadImageFromFile packs no images
        if mode == 'loss':
            return self.loss(inputs, data_samples, **kwargs)
        if mode == 'predict':
            return self.predict(inputs, data_samples, **kwargs)
        if mode == 'tensor':
            return self._forward(inputs, data_samples, **kwargs)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, predict and tensor mode')

    @abstractmethod
    def loss(self, inputs: Tensor, data_samples: SampleList, **kwargs) -> dict:
        """Losses of a batch, by name."""

    @abstractmethod
    def predict(self, inputs: Tensor, data_samples: SampleList, **kwargs) -> SampleList:
        """Predictions of a batch, written into the samples."""

    def _forward(self, inputs: Tensor, data_samples: Optional[SampleList] = None, **kwargs):
        raise NotImplementedError(f'{type(self).__name__} has no tensor mode')
