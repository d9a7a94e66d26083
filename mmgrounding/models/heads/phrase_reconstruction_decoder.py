"""A decoding LSTM that rebuilds a phrase's words from one visual feature (ReIR Eq. 13)."""

from typing import Sequence

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.nn.utils.rnn import pad_sequence

from mmgrounding.registry import MODELS
from mmgrounding.utils.cpu_features import run_lstm


@MODELS.register_module()
class PhraseReconstructionDecoder(BaseModule):
    """Teacher-forced LSTM: step t reads [e(w_{t-1}), W z] (w_0 a start token, id 0) and
    scores w_t, for t = 1..L.

    The visual feature z enters every step (the official GRU reads it as its first input
    only; with it at every step the decoder learns to use z within a few hundred
    iterations, which a short schedule needs: an interpretation).

    Args:
        num_words: V, the size of the word vocabulary (id 0, padding, is the start token).
        in_dim: size of the visual feature z.
        embed_dim: word embedding size (and the size of W z).
        hidden_dim: LSTM size.
        init_cfg: mmengine init config.
    """

    def __init__(
        self,
        num_words: int,
        in_dim: int,
        *,
        embed_dim: int = 300,
        hidden_dim: int = 1024,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.visual = nn.Linear(in_dim, embed_dim)
        self.embedding = nn.Embedding(num_words, embed_dim)
        self.lstm = nn.LSTM(2 * embed_dim, hidden_dim, batch_first=True)
        self.classifier = nn.Linear(hidden_dim, num_words)

    def forward(self, visual: Tensor, word_ids: Sequence[Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        """(P, in_dim) features and P (L_p,) word ids -> logits (P, L, V), targets (P, L),
        mask (P, L) (True at real words)."""
        device = visual.device
        num = visual.shape[0]
        if num == 0:
            empty = torch.zeros((0, 1), dtype=torch.long, device=device)
            return visual.new_zeros((0, 1, self.classifier.out_features)), empty, empty.bool()
        targets = pad_sequence(list(word_ids), batch_first=True).to(device)  # (P, L)
        lengths = torch.tensor([len(w) for w in word_ids], device=device)
        mask = torch.arange(targets.shape[1], device=device)[None] < lengths[:, None]
        previous = torch.cat([targets.new_zeros((num, 1)), targets[:, :-1]], dim=1)  # (P, L)
        words = self.embedding(previous)  # (P, L, E)
        seen = self.visual(visual)[:, None].expand_as(words)  # (P, L, E)
        states, _ = run_lstm(self.lstm, torch.cat([words, seen], dim=-1))
        return self.classifier(states), targets, mask
