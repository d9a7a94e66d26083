"""InfoGround: contrastive word–region attention (Gupta et al., ECCV 2020)."""

from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from mmgrounding.registry import MODELS
from mmgrounding.structures import SampleList
from mmgrounding.text import tag_words, word_tokenize_with_spans

from ..fusion.word_region_attention import phrase_region_scores, scatter_rows
from .albef import ALBEFGrounder
from .base import BaseGrounder
from .word_batch import one_word_per_caption, overlapping_tokens
from .word_features import WordFeaturesMixin


@MODELS.register_module()
class InfoGroundGrounder(WordFeaturesMixin, BaseGrounder):
    """Word–region attention trained by L_img (+ L_lang) on frozen contextual word features.

    Words: a frozen BERT (:class:`BertTextEncoder`, always in eval mode, run without
    gradients) over the WordPiece tokens of the caption, or the same features read from a
    word-feature cache (``tools/cache_word_features.py``): when every sample of the batch
    carries ``tokens`` (and ``substitutes``) from :class:`LoadWordFeatures`, no encoder runs
    for them; a batch where only some samples carry them raises (see :meth:`word_batch`).
    Cache and online path share :meth:`caption_word_features` (:class:`WordFeaturesMixin`,
    ``grounders/word_features.py``). Regions: the cached detector features of
    ``data_samples[i].proposals`` (``feats`` (K, D_r), ``bboxes`` (K, 4) xyxy in original
    image pixels), padded to the batch's largest K with a mask. The
    :class:`WordRegionAttention` gives φ of every caption with every image.

    Training: ``loss_img`` (Eq. 8) over the WordPiece tokens of the words that
    :func:`tag_words` tags NOUN or ADJ; images are told apart by ``img_id`` when the
    samples carry it, so captions of the same image are all positives. ``loss_lang`` (Eq. 9)
    when some sample of the batch has substitutes: cached ``substitutes``, or ``negatives``
    in its metainfo (:class:`LoadCaptionNegatives`): ``{word index: [substitute words]}``
    (or a list of such pairs), word indices into ``word_tokenize(caption)`` as in the cache
    of ``tools/generate_negatives.py``. Each substitute replaces the word's characters in the
    caption; the frozen encoder reads the new caption and the substitute's first WordPiece
    gives w'_k (:meth:`substitute_features`), compared with the true word's first WordPiece.
    Cached substitutes take precedence over metainfo ``negatives``. Without substitutes in
    the batch, ``loss_lang`` is not computed and not reported.

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
        lang_words: which words with substitutes L_lang counts: ``'all'`` (ours) or
            ``'one_per_caption'``, one drawn at random per caption and step (the paper,
            Sec. 2.4, and the official sampler).
        substitute_projection: how the substitutes go through the word MLPs q_w and v_w
            (whose BatchNorm normalises over the batch): ``'joint'`` (ours) in one batch
            with the caption tokens, the true word's φ of L_lang read from that pass;
            ``'separate'`` (the official ``att_V_o_for_negs`` / ``compute_neg_noun_loss``)
            the true word and its substitutes in a batch of their own, the true word's φ of
            L_lang from that batch.
        data_preprocessor: as in :class:`mmengine.model.BaseModel`.
    """

    word_tags = ('NOUN', 'ADJ')

    def __init__(
        self,
        *,
        text_encoder: dict,
        tokenizer: dict,
        attention: dict,
        image_loss: dict = dict(type='InfoGroundImageLoss'),
        language_loss: Optional[dict] = dict(type='InfoGroundLanguageLoss'),
        max_text_length: int = 40,
        lang_words: str = 'all',
        substitute_projection: str = 'joint',
        data_preprocessor: Optional[dict] = None,
    ) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        if lang_words not in ('all', 'one_per_caption'):
            raise ValueError(f"lang_words must be 'all' or 'one_per_caption', got {lang_words!r}")
        if substitute_projection not in ('joint', 'separate'):
            raise ValueError(
                f"substitute_projection must be 'joint' or 'separate', got "
                f'{substitute_projection!r}'
            )
        self.lang_words = lang_words
        self.substitute_projection = substitute_projection
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

    # ------------------------------------------------------------------ parts
    @staticmethod
    def _regions(data_samples: SampleList) -> Tuple[Tensor, Tensor]:
        """(B, K, D_r) region features padded to the batch's largest K, (B, K) mask."""
        feats = [s.proposals.feats.float() for s in data_samples]
        padded = pad_sequence(feats, batch_first=True)  # (B, K, D_r)
        lengths = torch.tensor([len(f) for f in feats], device=padded.device)
        mask = torch.arange(padded.shape[1], device=padded.device)[None] < lengths[:, None]
        return padded, mask

    def selected_tokens(self, caption: str, offsets: Tensor) -> Tensor:
        """(L,) bool: the WordPiece tokens of the caption's nouns and adjectives."""
        words, spans = word_tokenize_with_spans(caption)
        kept = [span for span, tag in zip(spans, tag_words(words)) if tag in self.word_tags]
        return overlapping_tokens(offsets, kept).any(dim=0)

    def _forward(
        self, inputs: Optional[Tensor] = None, data_samples: Optional[SampleList] = None, **kwargs
    ) -> Tuple[Tensor, Tensor]:
        """φ (B, B, L) of every caption with every image and the paired attention (B, L, K)."""
        regions, region_mask = self._regions(data_samples)
        batch = self.word_batch(data_samples, regions.device, with_negatives=False)
        keys, values = self.attention.project_regions(regions, region_mask)
        queries, word_values = self.attention.project_words(batch.words, batch.word_mask)
        phi, _ = self.attention.compatibility(
            queries, word_values, keys, values, region_mask=region_mask, all_pairs=True
        )
        _, attention = self.attention.compatibility(
            queries, word_values, keys, values, region_mask=region_mask
        )
        return phi, attention

    # ------------------------------------------------------------------ modes
    def loss(self, inputs: Optional[Tensor], data_samples: SampleList, **kwargs) -> dict:
        regions, region_mask = self._regions(data_samples)  # (B, K, D_r), (B, K)
        device = regions.device
        captions = [s.metainfo['caption'] for s in data_samples]
        words, word_mask, offsets, negatives = self.word_batch(
            data_samples, device, with_negatives=self.language_loss is not None
        )  # (B, L, D)
        if negatives is not None and self.lang_words == 'one_per_caption':
            negatives = one_word_per_caption(negatives)
        joint = negatives is not None and self.substitute_projection == 'joint'

        # Regions once; the true words with the substitutes in one pass ('joint'), so that
        # each BatchNorm sees one batch of each per step, or the words alone ('separate').
        keys, region_values = self.attention.project_regions(regions, region_mask)  # (B, K, d)
        rows = words[word_mask]  # (n, D)
        if joint:
            rows = torch.cat([rows, negatives['feats'][negatives['mask']]])
        row_queries, row_values = self.attention.project_words(rows[None])  # (1, n [+ m], d)
        num_words = int(word_mask.sum())
        queries = scatter_rows(row_queries[0, :num_words], word_mask)  # (B, L, d)
        word_values = scatter_rows(row_values[0, :num_words], word_mask)

        phi, _ = self.attention.compatibility(
            queries, word_values, keys, region_values, region_mask=region_mask, all_pairs=True
        )  # (B, B, L)
        token_mask = torch.stack([self.selected_tokens(c, o) for c, o in zip(captions, offsets)])
        positives = None
        if all('img_id' in s.metainfo for s in data_samples):
            img_ids = [str(s.metainfo['img_id']) for s in data_samples]
            positives = torch.tensor(
                [[a == b for b in img_ids] for a in img_ids], device=device
            )  # (B, B)
        losses = dict(loss_img=self.image_loss(phi, token_mask, positives))

        if negatives is not None:
            owner, token = negatives['sample'], negatives['token']
            num_captions, num_tokens = word_mask.shape
            if joint:
                neg_mask = negatives['mask']  # (M, K')
                neg_queries = scatter_rows(row_queries[0, num_words:], neg_mask)  # (M, K', d)
                neg_values = scatter_rows(row_values[0, num_words:], neg_mask)
                phi_neg, _ = self.attention.compatibility(
                    neg_queries,
                    neg_values,
                    keys[owner],
                    region_values[owner],
                    region_mask=region_mask[owner],
                )  # (M, K')
                phi_true = phi.diagonal(dim1=0, dim2=1).T  # (B, L): φ(R_b, w_bj)
            else:
                # the true word (first WordPiece) and its substitutes: (M, 1 + K', D)
                group = torch.cat([words[owner, token][:, None], negatives['feats']], dim=1)
                neg_mask = negatives['mask']
                group_mask = torch.cat([neg_mask.new_ones(neg_mask.shape[0], 1), neg_mask], 1)
                group_queries, group_values = self.attention.project_words(group, group_mask)
                phi_group, _ = self.attention.compatibility(
                    group_queries,
                    group_values,
                    keys[owner],
                    region_values[owner],
                    region_mask=region_mask[owner],
                )  # (M, 1 + K')
                phi_neg = phi_group[:, 1:]
                phi_true = phi.new_zeros(num_captions, num_tokens)
                phi_true[owner, token] = phi_group[:, 0]
            phi_negatives = phi.new_zeros(num_captions, num_tokens, neg_mask.shape[1])
            phi_negatives[owner, token] = phi_neg  # (B, L, K')
            negative_mask = torch.zeros_like(phi_negatives, dtype=torch.bool)
            negative_mask[owner, token] = neg_mask
            lang_tokens = torch.zeros_like(word_mask)
            lang_tokens[owner, token] = True
            losses['loss_lang'] = self.language_loss(
                phi_true, phi_negatives, lang_tokens, negative_mask
            )
        return losses

    @torch.no_grad()
    def predict(self, inputs: Optional[Tensor], data_samples: SampleList, **kwargs) -> SampleList:
        regions, region_mask = self._regions(data_samples)
        words, word_mask, offsets, _ = self.word_batch(
            data_samples, regions.device, with_negatives=False
        )
        _, attention = self.attention(
            regions, words, region_mask=region_mask, word_mask=word_mask
        )  # (B, L, K)
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
