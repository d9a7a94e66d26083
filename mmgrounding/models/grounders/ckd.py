"""CKD: region–phrase scores trained by image–sentence NCE and distilled detector labels."""

import json
import os.path as osp
from typing import Optional, Sequence

import torch
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from mmgrounding.registry import MODELS
from mmgrounding.structures import SampleList
from mmgrounding.text import match_phrase_to_classes

from ..heads.region_phrase_scores import image_sentence_scores, region_phrase_scores
from .base import BaseGrounder
from .utils import region_feature_normalisation


@MODELS.register_module()
class CKDGrounder(BaseGrounder):
    """Contrastive knowledge distillation for weakly supervised grounding (Wang et al. 2021).

    Regions x (cached detector features, normalised by the training split's mean and
    standard deviation) go through the region branch f, phrases y through the phrase
    encoder and the phrase branch g; s(x, y) = f(x)ᵀg(y) is a cosine (Eq. 1) and
    S(X, Y) = Σ_k max_l s(x_l, y_k) scores an image against a sentence (Eq. 2).

    Training: ``loss_is`` = L_IS (NCE of S over the images of the batch, Eq. 5, or the
    max-margin loss of Eq. 7) and ``loss_rp`` = λ · L_RP (Eq. 4), the cross-entropy between
    the pseudo labels p̂(x, y) ∝ Σ_z p(y, z) p(z | x) and softmax_l s(x_l, y)/τ over the
    regions of the phrase's image. p(y, z) is one-hot at the class that
    :func:`match_phrase_to_classes` gives the phrase (cached per phrase text); phrases that
    map to no class take no part in L_RP. λ is ``distill_weight``, set each iteration by
    :class:`LossWeightStaircaseHook`. Images are told apart by ``img_id``: captions of the
    same image in a batch are all positives.

    Prediction: the regions of each phrase's image ranked by s(x_l, y); the detector's
    scores and classes are not used.

    Inputs: ``data_samples[i].proposals`` with ``bboxes`` (K, 4) xyxy, ``feats`` (K, D) and,
    for L_RP, ``class_probs`` (K, C+1) (background last); metainfo ``phrases`` and
    ``img_id``. Image tensors are not used (pipelines may leave them out).

    Args:
        phrase_encoder: config of the word encoder (:class:`LSTMPhraseEncoder`).
        region_branch: config of f (an :class:`EmbeddingBranch`; ``in_dim`` = D).
        phrase_branch: config of g (an :class:`EmbeddingBranch`; ``in_dim`` = the encoder's
            output size).
        image_sentence_loss: L_IS config (``ImageSentenceNCELoss`` or ``MaxMarginLoss``),
            None to train without it (the Distill row of Table 4).
        region_phrase_loss: L_RP config (``CKDRegionPhraseLoss``), None to train without it.
        distill_weight: λ before any hook sets it.
        class_names: the detector's classes (z), in the order of ``class_probs``.
        cache_dir: a region cache; when given, ``class_names`` default to its meta.json
            classes and the feature statistics are computed from its ``stats_split``.
        teacher_cache_dir: the region cache of a separate teacher detector
            (:class:`LoadTeacherClassProbs` in the training pipeline); when given,
            ``class_names`` default to its classes instead.
        stats_split: the cache split for the feature mean and standard deviation.
        stats_topk: regions per image used for the statistics (as many as the pipeline
            reads).
        feature_dim: D; needed to size the statistics buffers when ``cache_dir`` is None.
        data_preprocessor: as in :class:`mmengine.model.BaseModel` (``BaseDataPreprocessor``).
    """

    def __init__(
        self,
        *,
        phrase_encoder: dict,
        region_branch: dict,
        phrase_branch: dict,
        image_sentence_loss: Optional[dict] = dict(type='ImageSentenceNCELoss'),
        region_phrase_loss: Optional[dict] = dict(type='CKDRegionPhraseLoss'),
        distill_weight: float = 1.0,
        class_names: Optional[Sequence[str]] = None,
        cache_dir: Optional[str] = None,
        teacher_cache_dir: Optional[str] = None,
        stats_split: str = 'train',
        stats_topk: Optional[int] = None,
        feature_dim: Optional[int] = None,
        data_preprocessor: Optional[dict] = None,
    ) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        if image_sentence_loss is None and region_phrase_loss is None:
            raise ValueError('CKDGrounder needs image_sentence_loss, region_phrase_loss or both')
        self.phrase_encoder = MODELS.build(phrase_encoder)
        self.region_branch = MODELS.build(region_branch)
        self.phrase_branch = MODELS.build(phrase_branch)
        self.image_sentence_loss = (
            MODELS.build(image_sentence_loss) if image_sentence_loss is not None else None
        )
        self.region_phrase_loss = (
            MODELS.build(region_phrase_loss) if region_phrase_loss is not None else None
        )
        self.distill_weight = float(distill_weight)

        classes_from = teacher_cache_dir if teacher_cache_dir is not None else cache_dir
        if class_names is None and classes_from is not None:
            with open(osp.join(classes_from, 'meta.json'), encoding='utf-8') as f:
                class_names = json.load(f)['detector']['classes']
        if self.region_phrase_loss is not None and not class_names:
            raise ValueError('L_RP needs the detector classes: class_names or cache_dir')
        self.class_names = list(class_names or [])
        self._phrase_class: dict[str, Optional[int]] = {}

        # Feature normalisation: statistics of the training split, kept in the checkpoint.
        mean, std = region_feature_normalisation(
            cache_dir, split=stats_split, topk=stats_topk, feature_dim=feature_dim
        )
        self.register_buffer('feat_mean', mean)
        self.register_buffer('feat_std', std)

    # ------------------------------------------------------------------ parts
    def phrase_class(self, text: str) -> Optional[int]:
        """The detector class of a phrase (head noun / WordNet rule), cached per text."""
        if text not in self._phrase_class:
            match = match_phrase_to_classes(text, self.class_names)
            self._phrase_class[text] = None if match is None else match[0]
        return self._phrase_class[text]

    def _regions(self, data_samples: SampleList) -> tuple[Tensor, Tensor]:
        """(B, K, E) region embeddings f(x) and the (B, K) mask of real regions."""
        feats = [s.proposals.feats.float() for s in data_samples]
        lengths = torch.tensor([len(f) for f in feats])
        padded = pad_sequence(feats, batch_first=True)  # (B, K, D)
        device = self.feat_mean.device
        mask = (torch.arange(padded.shape[1])[None] < lengths[:, None]).to(device)  # (B, K)
        normed = (padded.to(device) - self.feat_mean) / self.feat_std
        return self.region_branch(normed), mask

    def _phrases(self, data_samples: SampleList) -> tuple[Tensor, Tensor, list[str]]:
        """(P, E) phrase embeddings g(y) of all phrases, (P,) their sample, and their texts."""
        texts = [t for s in data_samples for t in s.metainfo['phrases']]
        owner = torch.tensor(
            [i for i, s in enumerate(data_samples) for _ in s.metainfo['phrases']], dtype=torch.long
        )
        embeddings = self.phrase_branch(self.phrase_encoder(texts))  # (P, E)
        return embeddings, owner.to(embeddings.device), texts

    def _forward(
        self, inputs: Optional[Tensor] = None, data_samples: Optional[SampleList] = None, **kwargs
    ) -> Tensor:
        """(P, B, K) region–phrase scores of all phrases against all images of the batch."""
        regions, mask = self._regions(data_samples)
        phrases, _, _ = self._phrases(data_samples)
        return region_phrase_scores(phrases, regions).masked_fill(~mask[None], float('-inf'))

    # ------------------------------------------------------------------ modes
    def loss(self, inputs: Optional[Tensor], data_samples: SampleList, **kwargs) -> dict:
        regions, mask = self._regions(data_samples)  # (B, K, E), (B, K)
        phrases, owner, texts = self._phrases(data_samples)  # (P, E), (P,)
        scores = region_phrase_scores(phrases, regions)  # (P, B, K)
        losses = {}
        if self.image_sentence_loss is not None:
            num = len(data_samples)
            sentence_scores = image_sentence_scores(
                scores, owner, num, region_mask=mask
            )  # (B sentences, B images)
            img_ids = [str(s.metainfo['img_id']) for s in data_samples]
            positives = torch.tensor(
                [[a == b for b in img_ids] for a in img_ids], device=scores.device
            )  # (B, B)
            losses['loss_is'] = self.image_sentence_loss(sentence_scores, positives)
        if self.region_phrase_loss is not None:
            classes = [self.phrase_class(t) for t in texts]
            keep = torch.tensor([c is not None for c in classes], device=scores.device)
            own = scores[torch.arange(len(owner), device=scores.device), owner]  # (P, K)
            class_probs = pad_sequence(
                [s.proposals.class_probs.float() for s in data_samples], batch_first=True
            ).to(scores.device)[owner, :, : len(self.class_names)]  # (P,K,C)
            phrase_class = scores.new_zeros((len(texts), len(self.class_names)))  # (P, C)
            for p, c in enumerate(classes):
                if c is not None:
                    phrase_class[p, c] = 1.0
            boxes = pad_sequence(
                [s.proposals.bboxes.float() for s in data_samples], batch_first=True
            ).to(scores.device)[owner]  # (P, K, 4)
            loss_rp = self.region_phrase_loss(
                own[keep],
                class_probs[keep],
                phrase_class[keep],
                region_mask=mask[owner][keep],
                boxes_xyxy=boxes[keep],
            )
            losses['loss_rp'] = self.distill_weight * loss_rp
            if all('teacher_matched' in s.proposals for s in data_samples):
                # a separate teacher (LoadTeacherClassProbs): the share of feature boxes that
                # found a teacher box, logged beside the losses (no 'loss' in the name)
                matched = torch.cat([s.proposals.teacher_matched for s in data_samples])
                losses['teacher_match_rate'] = matched.float().mean().to(scores.device)
        return losses

    @torch.no_grad()
    def predict(self, inputs: Optional[Tensor], data_samples: SampleList, **kwargs) -> SampleList:
        regions, mask = self._regions(data_samples)
        phrases, owner, _ = self._phrases(data_samples)
        for i, sample in enumerate(data_samples):
            num_regions = int(mask[i].sum())
            scores = phrases[owner == i] @ regions[i, :num_regions].T  # (P_i, K)
            order = scores.argsort(dim=1, descending=True, stable=True)  # (P_i, K)
            boxes = sample.proposals.bboxes.float().to(scores.device)
            sample.pred_boxes = boxes[order]  # (P_i, K, 4), original image pixels
            sample.pred_scores = scores.gather(1, order)  # (P_i, K)
        return data_samples
