"""ReIR's text side: an LSTM over the whole caption; a phrase is the mean of its words' states."""

from typing import Sequence

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

from mmgrounding.registry import MODELS
from mmgrounding.text import read_word_vocab, word_tokenize, word_tokenize_with_spans
from mmgrounding.utils.cpu_features import run_lstm

from .lstm_phrase_encoder import word_embedding


@MODELS.register_module()
class CaptionLSTMPhraseEncoder(BaseModule):
    """Caption text and phrase spans -> phrase features (Eq. 1), caption features, word ids.

    The caption is split by :func:`mmgrounding.text.word_tokenize_with_spans`; an LSTM runs
    over all its words; the feature of a phrase is the mean of the states of the words that
    lie inside its character span (x_q of Eq. 1), the caption's feature the mean of all
    states (the sentence embedding of the official ranking loss). A phrase whose span holds
    no word (or is ``(-1, -1)``) is encoded from its own text instead. The word ids of each
    phrase text (its reconstruction target) are returned too.

    Args:
        vocab_file: one word a line, ``[PAD]`` and ``[UNK]`` first (``tools/build_relation_vocab.py
            --word-vocab-out`` writes the words of the training captions).
        embed_dim: word embedding size (300 with GloVe).
        hidden_dim: LSTM size (official: 1024).
        num_layers: LSTM layers (official: 1).
        glove_file: optional GloVe text file to initialise the embeddings.
        freeze_embeddings: keep the embeddings fixed.
        init_cfg: mmengine init config.
    """

    def __init__(
        self,
        vocab_file: str,
        *,
        embed_dim: int = 300,
        hidden_dim: int = 1024,
        num_layers: int = 1,
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
        self._caption_cache: dict[str, tuple[Tensor, list[tuple[int, int]]]] = {}
        self._text_cache: dict[str, Tensor] = {}

    @property
    def num_words(self) -> int:
        return len(self.words)

    def _ids(self, words: Sequence[str]) -> Tensor:
        return torch.tensor([self.word_ids.get(w, 1) for w in words] or [1], dtype=torch.long)

    def token_ids(self, text: str) -> Tensor:
        """(L,) int64 ids of the words of ``text`` (``[UNK]`` alone for no word)."""
        ids = self._text_cache.get(text)
        if ids is None:
            ids = self._text_cache[text] = self._ids(word_tokenize(text))
        return ids

    def _caption(self, caption: str) -> tuple[Tensor, list[tuple[int, int]]]:
        if caption not in self._caption_cache:
            words, spans = word_tokenize_with_spans(caption)
            self._caption_cache[caption] = (self._ids(words), spans or [(0, 0)])
        return self._caption_cache[caption]

    def _states(self, ids: list[Tensor]) -> Tensor:
        """(N, L, H) LSTM states of N id sequences, zero after each sequence's end."""
        device = self.embedding.weight.device
        lengths = torch.tensor([len(i) for i in ids])
        tokens = pad_sequence(ids, batch_first=True).to(device)  # (N, L)
        packed = pack_padded_sequence(
            self.embedding(tokens), lengths, batch_first=True, enforce_sorted=False
        )
        states, _ = run_lstm(self.lstm, packed)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=tokens.shape[1])
        return states  # (N, L, H)

    def forward(
        self,
        captions: Sequence[str],
        phrase_spans: Sequence[Sequence[tuple[int, int]]],
        phrase_texts: Sequence[Sequence[str]],
    ) -> dict:
        """Encode B captions and their phrases.

        Args:
            captions: B caption strings.
            phrase_spans: per caption, its P_b ``(start, end)`` character spans.
            phrase_texts: per caption, its P_b phrase texts.

        Returns:
            dict with ``phrases`` (P, H) with P = Σ P_b in caption order, ``captions``
            (B, H), ``owner`` (P,) int64 caption index of each phrase, ``phrase_ids`` list of
            P (L_p,) int64 word ids of the phrase texts.
        """
        device = self.embedding.weight.device
        encoded = [self._caption(c) for c in captions]
        states = self._states([ids for ids, _ in encoded]) if encoded else None  # (B, L, H)
        phrase_feats, owner, phrase_ids, fallback = [], [], [], []
        for b, (spans, texts) in enumerate(zip(phrase_spans, phrase_texts)):
            word_spans = encoded[b][1]
            length = len(encoded[b][0])
            for (start, end), text in zip(spans, texts):
                inside = [
                    i
                    for i, (s, e) in enumerate(word_spans[:length])
                    if start >= 0 and s >= start and e <= end
                ]
                if inside:
                    phrase_feats.append(states[b, inside].mean(dim=0))
                else:
                    fallback.append((len(phrase_feats), text))
                    phrase_feats.append(None)
                owner.append(b)
                phrase_ids.append(self.token_ids(text))
        if fallback:
            own = self._states([self.token_ids(t) for _, t in fallback])  # (F, L, H)
            for (index, text), row in zip(fallback, own):
                phrase_feats[index] = row[: len(self.token_ids(text))].mean(dim=0)
        hidden = self.out_dim
        if states is None:
            caption_feats = self.embedding.weight.new_zeros((0, hidden))
        else:
            lengths = torch.tensor([len(i) for i, _ in encoded], device=device)
            caption_feats = states.sum(dim=1) / lengths[:, None].to(states.dtype)  # (B, H)
        return dict(
            phrases=(
                torch.stack(phrase_feats)
                if phrase_feats
                else self.embedding.weight.new_zeros((0, hidden))
            ),
            captions=caption_feats,
            owner=torch.tensor(owner, dtype=torch.long, device=device),
            phrase_ids=phrase_ids,
        )
