"""The label prior s^a of ReIR (Eq. 3): how well a phrase fits each detector class."""

from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import Tensor


class BaseLabelPrior(BaseModule):
    """Phrase texts -> (P, C) non-negative class affinities, cached per text.

    Subclasses implement :meth:`phrase_row`; None means "no information" (a row of ones:
    the prior then leaves the phrase's proposals as they are).

    Args:
        class_names: the detector's C classes, in the order of its labels.
    """

    def __init__(self, class_names: Sequence[str]) -> None:
        super().__init__()
        if not class_names:
            raise ValueError(f'{type(self).__name__} needs the detector class names')
        self.class_names = list(class_names)
        self._rows: dict[str, Tensor] = {}

    def phrase_row(self, text: str) -> Optional[Sequence[float]]:
        """(C,) affinities of one phrase, in [0, 1], or None when nothing is known."""
        raise NotImplementedError

    def table(self, texts: Sequence[str]) -> Tensor:
        """(P, C) float affinities of the phrases."""
        rows = []
        for text in texts:
            if text not in self._rows:
                row = self.phrase_row(text)
                self._rows[text] = (
                    torch.ones(len(self.class_names))
                    if row is None
                    else torch.as_tensor(row, dtype=torch.float32).clamp(min=0)
                )
            rows.append(self._rows[text])
        return torch.stack(rows) if rows else torch.zeros((0, len(self.class_names)))

    def forward(self, texts: Sequence[str], labels: Tensor) -> Tensor:
        """(P,) texts and (P, K) detector labels of each phrase's boxes -> (P, K) s^a."""
        table = self.table(texts).to(labels.device)  # (P, C)
        return table.gather(1, labels.clamp(0, len(self.class_names) - 1).long())
