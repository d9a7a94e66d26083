"""Where InfoGround's words come from: the frozen encoder online, or a word-feature cache.

:class:`WordFeaturesMixin` computes the contextual features of a caption's WordPiece tokens
and of the substitutes w'_k of its words (L_lang), and assembles the :class:`WordBatch` of a
batch from the samples' cached fields or from the encoder. ``tools/cache_word_features.py``
writes the cache through the same :meth:`WordFeaturesMixin.caption_word_features`.
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmgrounding.structures import SampleList

from .word_batch import (
    Negatives,
    Span,
    WordBatch,
    chunks,
    collate_words,
    first_tokens,
    first_tokens_per_row,
    word_spans,
)


class WordFeaturesMixin:
    """Word features of a grounder with a frozen text encoder and a fast tokenizer.

    The grounder sets ``tokenizer`` (a fast tokenizer, for character offsets),
    ``text_encoder`` (ids (B, L), mask (B, L) -> (B, L, D) features, with ``hidden_size``)
    and ``max_text_length`` (captions are truncated to this many tokens).
    """

    @torch.no_grad()
    def encode_text(
        self, captions: List[str], device: torch.device
    ) -> Tuple[Tensor, Tensor, Tensor]:
        """Frozen contextual word features of ``captions``, padded to the longest.

        Returns:
            ``(words, word_mask, offsets)``: (B, L, D) features, (B, L) bool mask of real
            tokens, (B, L, 2) character offsets of each token in its caption ((0, 0) for
            [CLS], [SEP] and padding).
        """
        tokens = self.tokenizer(
            captions,
            padding='longest',
            truncation=True,
            max_length=self.max_text_length,
            return_offsets_mapping=True,
            return_tensors='pt',
        )
        ids = tokens['input_ids'].to(device)
        mask = tokens['attention_mask'].to(device)
        words = self.text_encoder(ids, mask)  # (B, L, D)
        return words, mask.bool(), tokens['offset_mapping'].to(device)

    @torch.no_grad()
    def caption_word_features(
        self,
        captions: Sequence[str],
        negatives: Optional[Sequence[Optional[Negatives]]] = None,
        *,
        device: torch.device,
        batch_size: Optional[int] = None,
    ) -> List[Dict[str, Any]]:
        """What the frozen encoder gives for each caption: one word-feature cache entry each.

        The one computation of word features: the online path of :meth:`loss` and
        :meth:`predict` and ``tools/cache_word_features.py`` both call it. Captions are
        encoded ``batch_size`` at a time, padded to the longest of each batch (the padding
        mask makes a caption's features independent of the batch up to float error).

        Args:
            captions: B captions.
            negatives: per caption None or ``{word index: [substitutes]}`` (or a list of
                ``(index, substitutes)`` pairs); None computes no substitute features.
            device: where to run the encoder.
            batch_size: captions (and substituted captions) per encoder pass; None: all.

        Returns:
            Per caption: ``token_feats`` (L, D) and ``token_offsets`` (L, 2) of its L real
            tokens ([CLS] and [SEP] included) and, with ``negatives``, the fields of
            :meth:`substitute_features`.
        """
        entries = []
        for chunk in chunks(list(captions), batch_size):
            words, word_mask, offsets = self.encode_text(chunk, device)  # (b, L, D)
            entries += [
                dict(token_feats=words[b][word_mask[b]], token_offsets=offsets[b][word_mask[b]])
                for b in range(len(chunk))
            ]
        if negatives is not None:
            if len(negatives) != len(captions):
                raise ValueError(f'{len(negatives)} negatives for {len(captions)} captions')
            substitutes = self.substitute_features(
                captions,
                negatives,
                [e['token_offsets'] for e in entries],
                device=device,
                batch_size=batch_size,
            )
            for entry, subs in zip(entries, substitutes):
                entry.update(subs)
        return entries

    @torch.no_grad()
    def substitute_features(
        self,
        captions: Sequence[str],
        negatives: Sequence[Optional[Negatives]],
        offsets: Sequence[Tensor],
        *,
        device: torch.device,
        batch_size: Optional[int] = None,
    ) -> List[Dict[str, Any]]:
        """Contextual features w'_k of the substitutes of each caption's words.

        Each substitute replaces its word's characters in the caption; the frozen encoder
        reads the new caption and the substitute's first WordPiece gives its feature. Words
        without substitutes, or whose tokens the truncation cut off, are left out.

        Args:
            captions: B captions.
            negatives: per caption None or ``{word index: [substitutes]}`` (or pairs), word
                indices into ``word_tokenize(caption)``.
            offsets: per caption the (L, 2) offsets of its tokens as the encoder reads it.
            device: where to run the encoder.
            batch_size: substituted captions per encoder pass; None: all in one.

        Returns:
            Per caption, for its M words with substitutes (N substitutes in all):
            ``negative_words`` (M,) word indices, ``negative_counts`` (M,),
            ``negative_substitutes`` (the N words, grouped by word) and ``negative_feats``
            (N, D).

        Raises:
            ValueError: a word index is not a word of its caption (the message names it).
        """
        texts: List[str] = []  # per substitute: the substituted caption
        sub_spans: List[Span] = []  # and the substitute's characters in it
        kept: List[List[Tuple[int, List[str]]]] = []  # per caption: (word index, substitutes)
        for caption, caption_negatives, caption_offsets in zip(captions, negatives, offsets):
            items = (
                []
                if not caption_negatives
                else list(
                    caption_negatives.items()
                    if isinstance(caption_negatives, Mapping)
                    else caption_negatives
                )
            )
            spans = word_spans(caption, [index for index, _ in items])
            firsts = first_tokens(caption_offsets, spans).tolist()
            kept.append([])
            for (index, subs), (start, end), first in zip(items, spans, firsts):
                if not subs or first < 0:  # no substitutes, or truncated away
                    continue
                kept[-1].append((int(index), list(subs)))
                for sub in subs:
                    texts.append(caption[:start] + sub + caption[end:])
                    sub_spans.append((start, start + len(sub)))
        feats = [torch.zeros(0, self.text_encoder.hidden_size, device=device)]
        for chunk, spans in zip(chunks(texts, batch_size), chunks(sub_spans, batch_size)):
            words, _, sub_offsets = self.encode_text(chunk, device)  # (n, L', D)
            firsts = first_tokens_per_row(sub_offsets, spans)  # the substitutes' first pieces
            feats.append(words[torch.arange(len(chunk), device=device), firsts])  # (n, D)
        sub_feats = torch.cat(feats)  # (N, D)
        out, first = [], 0
        for words_kept in kept:
            counts = [len(subs) for _, subs in words_kept]
            out.append(
                dict(
                    negative_words=torch.tensor([i for i, _ in words_kept], dtype=torch.long),
                    negative_counts=torch.tensor(counts, dtype=torch.long),
                    negative_substitutes=[sub for _, subs in words_kept for sub in subs],
                    negative_feats=sub_feats[first : first + sum(counts)],
                )
            )
            first += sum(counts)
        return out

    def word_batch(
        self, data_samples: SampleList, device: torch.device, *, with_negatives: bool
    ) -> WordBatch:
        """The words of a batch: cached (``tokens``, ``substitutes``) or from the encoder.

        When every sample carries cached ``tokens`` (:class:`LoadWordFeatures`) they are
        used; the substitutes come from the sample's cached ``substitutes``, else from its
        metainfo ``negatives`` through the encoder. When no sample carries them, the encoder
        computes everything (:meth:`caption_word_features`), negatives from the metainfo.

        Args:
            data_samples: the batch; ``caption`` in every metainfo.
            device: where the words go.
            with_negatives: compute the substitutes (for L_lang).

        Raises:
            ValueError: some samples carry cached features and others do not (a mixed batch:
                two pipelines in one dataloader), or the cached features have another size
                than the encoder's (a cache made with another encoder).
        """
        captions = [s.metainfo['caption'] for s in data_samples]
        cached = ['tokens' in s for s in data_samples]
        if all(cached) and cached:
            entries = self._cached_entries(data_samples, device, with_negatives=with_negatives)
        elif any(cached):
            raise ValueError(
                f'{sum(cached)} of the {len(cached)} samples of the batch carry '
                'cached word features (LoadWordFeatures) and the others do not; '
                'use LoadWordFeatures in every pipeline of the dataloader, or in '
                'none'
            )
        else:
            negatives = None
            if with_negatives and any(s.metainfo.get('negatives') for s in data_samples):
                negatives = [s.metainfo.get('negatives') for s in data_samples]
            entries = self.caption_word_features(captions, negatives, device=device)
        return collate_words(entries, captions, device)

    def _cached_entries(
        self, data_samples: SampleList, device: torch.device, *, with_negatives: bool
    ) -> List[Dict[str, Any]]:
        """The entries of :meth:`caption_word_features` from the samples' cached fields."""
        dim = self.text_encoder.hidden_size
        entries, online = [], []
        for b, sample in enumerate(data_samples):
            feats = sample.tokens.feats.to(device).float()  # (L, D)
            if feats.shape[-1] != dim:
                raise ValueError(
                    f'caption {sample.metainfo.get("caption_id")}: cached word '
                    f'features of size {feats.shape[-1]}, but the text encoder '
                    f'gives {dim} (a word cache made with another encoder)'
                )
            entry = dict(token_feats=feats, token_offsets=sample.tokens.offsets.to(device))
            if with_negatives and 'substitutes' in sample:
                subs = sample.substitutes
                real = (
                    torch.arange(subs.feats.shape[1], device=device)[None]
                    < subs.counts.to(device)[:, None]
                )  # (M, K)
                entry.update(
                    negative_words=subs.word_index,
                    negative_counts=subs.counts,
                    negative_feats=subs.feats.to(device).float()[real],
                )  # (N, D)
            elif with_negatives and sample.metainfo.get('negatives'):
                online.append(b)
            entries.append(entry)
        if online:  # cached words, substitutes from the metainfo through the encoder
            computed = self.substitute_features(
                [data_samples[b].metainfo['caption'] for b in online],
                [data_samples[b].metainfo['negatives'] for b in online],
                [entries[b]['token_offsets'] for b in online],
                device=device,
            )
            for b, subs in zip(online, computed):
                entries[b].update(subs)
        return entries
