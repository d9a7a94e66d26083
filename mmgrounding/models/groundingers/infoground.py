"""InfoGround: contrastive word–region attention (Gupta et al., ECCV 2020)."""
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from mmgrounding.registry import MODELS
from mmgrounding.structures import SampleList
from mmgrounding.text import tag_words, word_tokenize_with_spans

from ..fusion.word_region_attention import phrase_region_scores
from .albef import ALBEFGrounder
from .base import BaseGrounder

Span = Tuple[int, int]


def overlapping_tokens(offsets: Tensor, spans: Sequence[Span]) -> Tensor:
    """(S, L) bool: which tokens overlap each character span.

    Args:
        offsets: (L, 2) character offsets of the tokens (end exclusive); special and padding
            tokens have (0, 0) and never overlap anything.
        spans: S ``(start, end)`` character spans, end exclusive; an empty or negative span
            ((-1, -1): a phrase without a span) overlaps no token.
    """
    if not spans:
        return torch.zeros(0, offsets.shape[0], dtype=torch.bool, device=offsets.device)
    spans_t = torch.as_tensor(spans, dtype=offsets.dtype, device=offsets.device)  # (S, 2)
    start, end = offsets[None, :, 0], offsets[None, :, 1]  # (1, L)
    real = end > start
    return real & (start < spans_t[:, 1:]) & (end > spans_t[:, :1])  # (S, L)


@MODELS.register_module()
class InfoGroundGrounder(BaseGrounder):
    """Word–region attention trained by L_img (+ L_lang) on frozen contextual word features.

    Words: a frozen BERT (:class:`BertTextEncoder`, always in eval mode, run without
    gradients) over the WordPiece tokens of the caption. Regions: the cached detector
    features of ``data_samples[i].proposals`` (``feats`` (K, D_r), ``bboxes`` (K, 4) xyxy in
    original image pixels), padded to the batch's largest K with a mask. The
    :class:`WordRegionAttention` gives φ of every caption with every image.

    Training: ``loss_img`` (Eq. 8) over the WordPiece tokens of the words that
    :func:`tag_words` tags NOUN or ADJ; images are told apart by ``img_id`` when the
    samples carry it, so captions of the same image are all positives. ``loss_lang`` (Eq. 9)
    when some sample of the batch carries ``negatives`` in its metainfo:
    ``{word index: [substitute words]}`` (or a list of such pairs), word indices into
    ``word_tokenize(caption)`` as in the cache of ``tools/generate_negatives.py``
    (:func:`~mmgrounding.text.negatives.read_negatives`). Each substitute replaces the
    word's characters in the caption; the frozen encoder reads the new caption and the
    substitute's first WordPiece gives w'_k, compared with the true word's first WordPiece.
    Without negatives in the batch, ``loss_lang`` is not computed and not reported.

    Prediction: a phrase's tokens are those overlapping its ``phrase_spans`` characters in
    the caption; a region scores the largest attention of these tokens
    (:func:`phrase_region_scores`); the image's proposals are ranked by it. ``pred_boxes``
    (P, K, 4) are the proposal boxes, in original pixels when ``LoadRegionFeatures`` comes
    before ``Resize`` in the test pipeline. Image tensors are not used.

    Args:
        text_encoder: config of the frozen word encoder (:class:`BertTextEncoder`).
        tokenizer: ``dict(vocab_file=...)`` or ``dict(name_or_path=...)`` (plus
            ``BertTokenizerFast`` options), a fast tokenizer for character offsets.
        attention: config of :class:`WordRegionAttention` (``word_dim`` = the encoder's size).
        image_loss: L_img config (:class:`InfoGroundImageLoss`).
        language_loss: L_lang config (:class:`InfoGroundLanguageLoss`); None never computes it.
        max_text_length: captions are truncated to this many tokens.
        data_preprocessor: as in :class:`mmengine.model.BaseModel`.
    """

    word_tags = ('NOUN', 'ADJ')

    def __init__(self,
                 *,
                 text_encoder: dict,
                 tokenizer: dict,
                 attention: dict,
                 image_loss: dict = dict(type='InfoGroundImageLoss'),
                 language_loss: Optional[dict] = dict(type='InfoGroundLanguageLoss'),
                 max_text_length: int = 40,
                 data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        self.text_encoder = MODELS.build(text_encoder)
        self.text_encoder.requires_grad_(False)
        self.text_encoder.eval()
        self.tokenizer = ALBEFGrounder._build_tokenizer(tokenizer)
        self.attention = MODELS.build(attention)
        self.image_loss = MODELS.build(image_loss)
        self.language_loss = MODELS.build(language_loss) if language_loss is not None else None
        self.max_text_length = max_text_length

    def train(self, mode: bool = True) -> 'InfoGroundGrounder':
        """As ``nn.Module.train``, but the frozen text encoder stays in eval mode."""
        super().train(mode)
        self.text_encoder.eval()
        return self

    def forward(self, inputs: Optional[Tensor] = None, data_samples: Optional[SampleList] = None,
                mode: str = 'tensor', **kwargs):
        # region features only: pipelines without LoadImageFromFile pack no ``inputs``
        return super().forward(inputs, data_samples, mode, **kwargs)

    # ------------------------------------------------------------------ parts
    @staticmethod
    def _regions(data_samples: SampleList) -> Tuple[Tensor, Tensor]:
        """(B, K, D_r) region features padded to the batch's largest K, (B, K) mask."""
        feats = [s.proposals.feats.float() for s in data_samples]
        padded = pad_sequence(feats, batch_first=True)  # (B, K, D_r)
        lengths = torch.tensor([len(f) for f in feats], device=padded.device)
        mask = torch.arange(padded.shape[1], device=padded.device)[None] < lengths[:, None]
        return padded, mask

    @torch.no_grad()
    def encode_text(self, captions: List[str], device: torch.device) -> Tuple[Tensor, Tensor,
                                                                               Tensor]:
        """Frozen contextual word features of ``captions``.

        Returns:
            ``(words, word_mask, offsets)``: (B, L, D) features, (B, L) bool mask of real
            tokens, (B, L, 2) character offsets of each token in its caption ((0, 0) for
            [CLS], [SEP] and padding).
        """
        tokens = self.tokenizer(captions, padding='longest', truncation=True,
                                max_length=self.max_text_length, return_offsets_mapping=True,
                                return_tensors='pt')
        ids = tokens['input_ids'].to(device)
        mask = tokens['attention_mask'].to(device)
        words = self.text_encoder(ids, mask)  # (B, L, D)
        return words, mask.bool(), tokens['offset_mapping'].to(device)

    def selected_tokens(self, caption: str, offsets: Tensor) -> Tensor:
        """(L,) bool: the WordPiece tokens of the caption's nouns and adjectives."""
        words, spans = word_tokenize_with_spans(caption)
        kept = [span for span, tag in zip(spans, tag_words(words)) if tag in self.word_tags]
        return overlapping_tokens(offsets, kept).any(dim=0)

    def _negatives(self, data_samples: SampleList, offsets: Tensor,
                   device: torch.device) -> Optional[Dict[str, Tensor]]:
        """Contextual features of the substitutes of each sample's words with negatives.

        Returns:
            None when no sample carries negatives, else ``feats`` (M, K, D) of the M
            (caption, word) pairs with substitutes, ``mask`` (M, K), ``sample`` (M,) and
            ``token`` (M,): the caption and the true word's first WordPiece.
        """
        captions, sub_spans = [], []  # per negative: the substituted caption, its span
        pairs: List[Tuple[int, int, int, int]] = []  # sample, token, first caption, count
        for b, sample in enumerate(data_samples):
            negatives = sample.metainfo.get('negatives')
            if not negatives:
                continue
            caption = sample.metainfo['caption']
            _, spans = word_tokenize_with_spans(caption)
            items = negatives.items() if isinstance(negatives, Mapping) else negatives
            for index, substitutes in items:
                if not 0 <= int(index) < len(spans):
                    raise ValueError(f'negatives of word {index} but the caption {caption!r} '
                                     f'has {len(spans)} words')
                start, end = spans[int(index)]
                token = overlapping_tokens(offsets[b], [(start, end)])[0].nonzero()
                if not substitutes or len(token) == 0:  # truncated away
                    continue
                pairs.append((b, int(token[0]), len(captions), len(substitutes)))
                for sub in substitutes:
                    captions.append(caption[:start] + sub + caption[end:])
                    sub_spans.append((start, start + len(sub)))
        if not pairs:
            return None
        feats, _, sub_offsets = self.encode_text(captions, device)  # (N, L', D)
        spans_t = torch.tensor(sub_spans, dtype=sub_offsets.dtype, device=device)  # (N, 2)
        start, end = sub_offsets[..., 0], sub_offsets[..., 1]  # (N, L')
        hits = (end > start) & (start < spans_t[:, 1:]) & (end > spans_t[:, :1])  # (N, L')
        firsts = hits.int().argmax(dim=1)  # the substitute's first WordPiece
        sub_feats = feats[torch.arange(len(captions), device=device), firsts]  # (N, D)
        groups = [sub_feats[first:first + count] for _, _, first, count in pairs]
        lengths = torch.tensor([len(g) for g in groups], device=device)
        padded = pad_sequence(groups, batch_first=True)  # (M, K, D)
        return dict(
            feats=padded,
            mask=torch.arange(padded.shape[1], device=device)[None] < lengths[:, None],
            sample=torch.tensor([p[0] for p in pairs], device=device),
            token=torch.tensor([p[1] for p in pairs], device=device))

    def _forward(self, inputs: Optional[Tensor] = None,
                 data_samples: Optional[SampleList] = None, **kwargs) -> Tuple[Tensor, Tensor]:
        """φ (B, B, L) of every caption with every image and the paired attention (B, L, K)."""
        regions, region_mask = self._regions(data_samples)
        captions = [s.metainfo['caption'] for s in data_samples]
        words, word_mask, _ = self.encode_text(captions, regions.device)
        keys, values = self.attention.project_regions(regions, region_mask)
        queries, word_values = self.attention.project_words(words, word_mask)
        phi, _ = self.attention.compatibility(queries, word_values, keys, values,
                                              region_mask=region_mask, all_pairs=True)
        _, attention = self.attention.compatibility(queries, word_values, keys, values,
                                                    region_mask=region_mask)
        return phi, attention

    # ------------------------------------------------------------------ modes
    def loss(self, inputs: Optional[Tensor], data_samples: SampleList, **kwargs) -> dict:
        regions, region_mask = self._regions(data_samples)  # (B, K, D_r), (B, K)
        device = regions.device
        captions = [s.metainfo['caption'] for s in data_samples]
        words, word_mask, offsets = self.encode_text(captions, device)  # (B, L, D)
        negatives = (self._negatives(data_samples, offsets, device)
                     if self.language_loss is not None else None)

        # Regions once, and the true words with the substitutes in one pass, so that each
        # BatchNorm sees one batch of each per step.
        keys, region_values = self.attention.project_regions(regions, region_mask)  # (B, K, d)
        rows = words[word_mask]  # (n, D)
        if negatives is not None:
            rows = torch.cat([rows, negatives['feats'][negatives['mask']]])
        row_queries, row_values = self.attention.project_words(rows[None])  # (1, n [+ m], d)
        num_words = int(word_mask.sum())
        queries = row_queries.new_zeros(*word_mask.shape, row_queries.shape[-1])  # (B, L, d)
        word_values = torch.zeros_like(queries)
        queries[word_mask] = row_queries[0, :num_words]
        word_values[word_mask] = row_values[0, :num_words]

        phi, _ = self.attention.compatibility(queries, word_values, keys, region_values,
                                              region_mask=region_mask,
                                              all_pairs=True)  # (B, B, L)
        token_mask = torch.stack([self.selected_tokens(c, o) for c, o in zip(captions, offsets)])
        positives = None
        if all('img_id' in s.metainfo for s in data_samples):
            img_ids = [str(s.metainfo['img_id']) for s in data_samples]
            positives = torch.tensor([[a == b for b in img_ids] for a in img_ids],
                                     device=device)  # (B, B)
        losses = dict(loss_img=self.image_loss(phi, token_mask, positives))

        if negatives is not None:
            neg_mask = negatives['mask']  # (M, K')
            neg_queries = row_queries.new_zeros(*neg_mask.shape, row_queries.shape[-1])
            neg_values = torch.zeros_like(neg_queries)
            neg_queries[neg_mask] = row_queries[0, num_words:]
            neg_values[neg_mask] = row_values[0, num_words:]
            owner, token = negatives['sample'], negatives['token']
            phi_neg, _ = self.attention.compatibility(
                neg_queries, neg_values, keys[owner], region_values[owner],
                region_mask=region_mask[owner])  # (M, K')
            num_captions, num_tokens = word_mask.shape
            phi_negatives = phi.new_zeros(num_captions, num_tokens, neg_mask.shape[1])
            phi_negatives[owner, token] = phi_neg  # (B, L, K')
            negative_mask = torch.zeros_like(phi_negatives, dtype=torch.bool)
            negative_mask[owner, token] = neg_mask
            lang_tokens = torch.zeros_like(word_mask)
            lang_tokens[owner, token] = True
            phi_true = phi.diagonal(dim1=0, dim2=1).T  # (B, L): φ(R_b, w_bj)
            losses['loss_lang'] = self.language_loss(phi_true, phi_negatives, lang_tokens,
                                                     negative_mask)
        return losses

    @torch.no_grad()
    def predict(self, inputs: Optional[Tensor], data_samples: SampleList, **kwargs) -> SampleList:
        regions, region_mask = self._regions(data_samples)
        captions = [s.metainfo['caption'] for s in data_samples]
        words, word_mask, offsets = self.encode_text(captions, regions.device)
        _, attention = self.attention(regions, words, region_mask=region_mask,
                                      word_mask=word_mask)  # (B, L, K)
        for i, sample in enumerate(data_samples):
            num_regions = int(region_mask[i].sum())
            spans = [tuple(s) for s in sample.metainfo['phrase_spans']]
            phrase_tokens = overlapping_tokens(offsets[i], spans)  # (P, L)
            scores = phrase_region_scores(attention[i, :, :num_regions], phrase_tokens)
            order = scores.argsort(dim=1, descending=True, stable=True)  # (P, K)
            boxes = sample.proposals.bboxes.float().to(scores.device)
            sample.pred_boxes = boxes[order].reshape(len(spans), num_regions, 4)  # (P, K, 4)
            sample.pred_scores = scores.gather(1, order)  # (P, K)
        return data_samples
