"""CKD's phrase encoder: word embeddings → 2-layer LSTM → max pooling over words."""

from typing import Sequence

import numpy as np
import torch
from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.nn.utils.rnn import pad_sequence

from mmgrounding.registry import MODELS
from mmgrounding.text import read_word_vocab, word_tokenize
from mmgrounding.utils.cpu_features import run_lstm


def load_glove(path: str, words: Sequence[str], dim: int) -> tuple[np.ndarray, int]:
    """Rows of a GloVe text file (``word v1 ... vD``) for ``words``; missing words stay 0.

    Returns:
        (V, dim) float32 matrix and how many of ``words`` were found.
    """
    index = {w: i for i, w in enumerate(words)}
    matrix = np.zeros((len(words), dim), np.float32)
    found = 0
    with open(path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, 1):
            word, _, rest = line.rstrip().partition(' ')
            if word in index:
                values = np.asarray(rest.split(' '), np.float32)
                if values.shape != (dim,):
                    raise ValueError(f'{path}:{line_no}: {values.shape[0]} values, expected {dim}')
                matrix[index[word]] = values
                found += 1
    return matrix, found


def word_embedding(
    words: Sequence[str], dim: int, *, glove_file: str | None, freeze: bool
) -> nn.Embedding:
    """An embedding of ``words`` (row 0, ``[PAD]``, pads), from GloVe when ``glove_file``.

    Args:
        words: the vocabulary, ``[PAD]`` then ``[UNK]`` first.
        dim: embedding size (that of the GloVe vectors).
        glove_file: a GloVe text file for the initial vectors (:func:`load_glove`); the
            default initialisation otherwise.
        freeze: keep the embeddings fixed.
    """
    embedding = nn.Embedding(len(words), dim, padding_idx=0)
    if glove_file is not None:
        matrix, _ = load_glove(glove_file, words, dim)
        embedding.weight.data.copy_(torch.from_numpy(matrix))
    embedding.weight.requires_grad_(not freeze)
    return embedding


@MODELS.register_module()
class LSTMPhraseEncoder(BaseModule):
    """Phrase text → (P, hidden) max-pooled LSTM states.

    Words come from :func:`mmgrounding.text.word_tokenize` and a vocabulary file
    (``tools/build_phrase_vocab.py``); unknown words map to ``[UNK]``. The token ids of each
    phrase text are cached.

    Args:
        vocab_file: one word a line, ``[PAD]`` then ``[UNK]`` first.
        embed_dim: word embedding size (paper: 300).
        hidden_dim: LSTM size (paper: 300).
        num_layers: LSTM layers (paper: 2).
        glove_file: optional GloVe text file of ``embed_dim`` vectors to initialise the
            embeddings; learned embeddings otherwise.
        freeze_embeddings: keep the embeddings fixed (the paper freezes its GloVe vectors).
        init_cfg: mmengine init config.
    """

    def __init__(
        self,
        vocab_file: str,
        *,
        embed_dim: int = 300,
        hidden_dim: int = 300,
        num_layers: int = 2,
        glove_file: str | None = None,
        freeze_embeddings: bool = False,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.words = read_word_vocab(vocab_file)
        self.word_ids = {w: i for i, w in enumerate(self.words)}
        self.embedding = word_embedding(
            self.words, embed_dim, glove_file=glove_file, freeze=freeze_embeddings
        )
        self.lstm = nn.LSTM(embed_dim, hidden_dim, num_layers=num_layers, batch_first=True)
        self.out_dim = hidden_dim
        self._token_cache: dict[str, Tensor] = {}

    def token_ids(self, text: str) -> Tensor:
        """(L,) int64 ids of the words of ``text`` (at least one: ``[UNK]`` for no word)."""
        ids = self._token_cache.get(text)
        if ids is None:
            words = word_tokenize(text) or [self.words[1]]
            ids = torch.tensor([self.word_ids.get(w, 1) for w in words], dtype=torch.long)
            self._token_cache[text] = ids
        return ids

    def forward(self, texts: Sequence[str]) -> Tensor:
        """P phrase texts -> (P, hidden_dim)."""
        device = self.embedding.weight.device
        if len(texts) == 0:
            return self.embedding.weight.new_zeros((0, self.out_dim))
        ids = [self.token_ids(t) for t in texts]
        lengths = torch.tensor([len(i) for i in ids])
        tokens = pad_sequence(ids, batch_first=True).to(device)  # (P, L)
        states, _ = run_lstm(self.lstm, self.embedding(tokens))  # (P, L, hidden)
        valid = torch.arange(tokens.shape[1])[None] < lengths[:, None]  # (P, L)
        states = states.masked_fill(~valid.to(device)[..., None], float('-inf'))
        return states.max(dim=1).values  # (P, hidden)
