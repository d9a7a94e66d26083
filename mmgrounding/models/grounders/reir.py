"""ReIR: relation-aware instance refinement for weakly supervised grounding (Liu et al. 2021)."""

import json
import os.path as osp
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.dist import all_gather_object, get_world_size
from torch import Tensor, nn
from torch.nn.utils.rnn import pad_sequence

from mmgrounding.registry import MODELS
from mmgrounding.structures import SampleList
from mmgrounding.text.relation_vocab import caption_relations, read_relation_vocab

from ..heads.reir_matching_head import prior_softmax
from ..losses.self_taught_regression_loss import delta_coder
from .base import BaseGrounder
from .reir_prediction import decode_clipped, gather_rows, reir_answers
from .utils import gather_with_grad, region_feature_normalisation


@MODELS.register_module()
class ReIRGrounder(BaseGrounder):
    """Coarse-to-fine matching with a visual object graph and self-taught box regression.

    Per phrase q_i of a caption and the M detector boxes o_m of its image:

    1. coarse (Eq. 2-4): F_cls gives log ŝ^c, F_reg δ^c; s^c = ŝ^c · s^a (label prior);
       α^c = s^c normalised over the boxes with s^a > 0 (all boxes when none has), i.e. a
       softmax of log ŝ^c + log s^a (:func:`prior_softmax`); z^c = Σ α^c x_o;
    2. the top K boxes V_i by α^c, moved by δ^c once the regression is on, re-embedded with
       their new geometry (and, with ``roi_extractor``, re-pooled at the new boxes);
    3. visual object graph (Eq. 5-8) over the phrases linked by a relation phrase:
       z_i = Σ_k α^c_ik x_ik, z' = graph(z), x'_ik = x_ik + α^c_ik z'_i;
    4. fine (Eq. 9-10): ŝ^f, δ^f = F(x_q, x'); α^f = softmax_K(ŝ^f · s^a); z^f = Σ α^f x';
    5. prediction (Eq. 11): s = α^c · α^f over V_i, the best box moved by δ^f.

    Losses (Eq. 12): ``loss_rec_s1/s2`` (reconstruction of the phrase words from z^c and
    z^f, one decoder), ``loss_rank_s1/s2`` (image–caption ranking of the images' mean z
    against the captions' LSTM features, both stages, with the negatives of every process:
    :func:`gather_with_grad`), ``loss_reg_s1/s2`` (self-taught
    regression of δ^c over the M boxes and δ^f over V_i, times ``regression_switch``, which
    :class:`LossWeightStaircaseHook` sets from the iteration) and ``loss_rel`` (relation
    classification of linked pairs from z^f). Each is left out when its config is None;
    ``two_stage=False`` keeps only stage 1 (Table 2's baseline).

    Predictions: ``pred_boxes`` (P, K, 4) the boxes V_i (moved by δ^f) ranked by the fused
    score ``pred_scores``; ``pred_boxes_stage1``, ``pred_boxes_stage2`` and
    ``pred_boxes_fused`` (P, 4) the answer of each stage. Boxes are in original image
    pixels. With ``two_stage=False``: all M boxes ranked by α^c, all three answers equal.

    Inputs: ``data_samples[i].proposals`` (``bboxes`` (M, 4), ``feats`` (M, D), ``labels``
    (M,)), metainfo ``caption``, ``phrases``, ``phrase_spans``, ``img_id`` and the image size
    (``ori_shape``, else ``height``/``width``; ``img_shape`` for ``region_frame='input'``).

    Args:
        phrase_encoder: :class:`CaptionLSTMPhraseEncoder` config (its size must be d).
        region_embedder: :class:`RegionFeatureEmbedder` config (``in_dim`` = D, out d).
        matching_head: :class:`ReIRMatchingHead` config (``dim`` defaults to d).
        phrase_decoder: :class:`PhraseReconstructionDecoder` config (sizes default from the
            encoder and d).
        reconstruction_loss: ``PhraseReconstructionLoss`` config.
        ranking_loss: ``ImageCaptionRankingLoss`` config, or None.
        regression_loss: ``SelfTaughtRegressionLoss`` config, or None (no STR: boxes stay).
        relation_loss: ``RelationClassificationLoss`` config, or None.
        label_prior: ``WordNetLabelPrior`` / ``GloVeLabelPrior`` config (``class_names``
            default to the detector's), or None.
        object_graph: ``VisualObjectGraph`` config, or None.
        relation_classifier: ``RelationClassifier`` config (needs ``relation_vocab_file``).
        relation_vocab_file: ``tools/build_relation_vocab.py`` output (the C_r classes).
        two_stage: run stages 2-5 (False: Table 2's baseline).
        topk: K.
        rank_dim: size of the image and caption projections of the ranking loss.
        regression_switch: factor of the regression losses before any hook sets it.
        roi_extractor: :class:`FrozenC4RoIExtractor` config for online features (needs the
            image ``inputs`` and ``region_frame='input'``), or None for cached features.
        region_frame: ``'original'`` (boxes in original pixels: cached features, boxes
            loaded before any resize) or ``'input'`` (boxes in the input image frame;
            predictions are mapped back with ``scale_factor``).
        class_names, cache_dir, stats_split, stats_topk, feature_dim: as for
            :class:`CKDGrounder` (cached feature statistics; class names from the cache).
        data_preprocessor: as in :class:`mmengine.model.BaseModel`.
    """

    def __init__(
        self,
        *,
        phrase_encoder: dict,
        region_embedder: dict,
        matching_head: dict,
        phrase_decoder: dict,
        reconstruction_loss: dict = dict(type='PhraseReconstructionLoss'),
        ranking_loss: Optional[dict] = dict(type='ImageCaptionRankingLoss'),
        regression_loss: Optional[dict] = None,
        relation_loss: Optional[dict] = None,
        label_prior: Optional[dict] = None,
        object_graph: Optional[dict] = None,
        relation_classifier: Optional[dict] = None,
        relation_vocab_file: Optional[str] = None,
        two_stage: bool = True,
        topk: int = 5,
        rank_dim: int = 512,
        regression_switch: float = 1.0,
        roi_extractor: Optional[dict] = None,
        region_frame: str = 'original',
        class_names: Optional[list] = None,
        cache_dir: Optional[str] = None,
        stats_split: str = 'train',
        stats_topk: Optional[int] = None,
        feature_dim: Optional[int] = None,
        data_preprocessor: Optional[dict] = None,
    ) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        if topk < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        if region_frame not in ('original', 'input'):
            raise ValueError(f"region_frame must be 'original' or 'input', got {region_frame!r}")
        if roi_extractor is not None and region_frame != 'input':
            raise ValueError("online features (roi_extractor) need region_frame='input'")
        if not two_stage and (object_graph or relation_classifier):
            raise ValueError('the object graph and relation classifier need two_stage=True')
        if (relation_classifier is None) != (relation_loss is None):
            raise ValueError('relation_classifier and relation_loss go together')
        self.phrase_encoder = MODELS.build(phrase_encoder)
        self.region_embedder = MODELS.build(region_embedder)
        dim = self.region_embedder.out_dim
        if self.phrase_encoder.out_dim != dim:
            raise ValueError(
                f'the phrase encoder gives {self.phrase_encoder.out_dim}-d '
                f'phrases but the region embedder {dim}-d regions'
            )
        self.matching_head = MODELS.build(matching_head, default_args=dict(dim=dim))
        self.phrase_decoder = MODELS.build(
            phrase_decoder, default_args=dict(num_words=self.phrase_encoder.num_words, in_dim=dim)
        )
        self.reconstruction_loss = MODELS.build(reconstruction_loss)
        self.ranking_loss = MODELS.build(ranking_loss) if ranking_loss else None
        self.regression_loss = MODELS.build(regression_loss) if regression_loss else None
        self.relation_loss = MODELS.build(relation_loss) if relation_loss else None
        if self.ranking_loss is not None:
            self.image_projection = nn.Linear(dim, rank_dim)
            self.caption_projection = nn.Linear(dim, rank_dim)
        self.rank_dim = rank_dim
        self.two_stage = two_stage
        self.topk = topk
        self.regression_switch = float(regression_switch)
        self.region_frame = region_frame
        self.coder = delta_coder(
            self.regression_loss.delta_weights if self.regression_loss else (10.0, 10.0, 5.0, 5.0)
        )

        if class_names is None and cache_dir is not None:
            with open(osp.join(cache_dir, 'meta.json'), encoding='utf-8') as f:
                class_names = json.load(f)['detector']['classes']
        self.class_names = list(class_names or [])
        self.label_prior = (
            MODELS.build(label_prior, default_args=dict(class_names=self.class_names))
            if label_prior
            else None
        )
        self.object_graph = (
            MODELS.build(object_graph, default_args=dict(dim=dim)) if object_graph else None
        )
        self.relation_texts: list[str] = []
        if relation_classifier is not None:
            if relation_vocab_file is None:
                raise ValueError('the relation classifier needs relation_vocab_file')
            self.relation_texts = read_relation_vocab(relation_vocab_file)
            self.relation_classifier = MODELS.build(
                relation_classifier,
                default_args=dict(dim=dim, num_classes=len(self.relation_texts) + 1),
            )
        else:
            self.relation_classifier = None
        self.relation_ids = {t: i + 1 for i, t in enumerate(self.relation_texts)}
        self._relations: dict[tuple, list] = {}
        self.roi_extractor = MODELS.build(roi_extractor) if roi_extractor else None

        # RoIAlign features (roi_extractor) are not the cache's: no cache statistics for them
        mean, std = region_feature_normalisation(
            cache_dir if self.roi_extractor is None else None,
            split=stats_split,
            topk=stats_topk,
            feature_dim=feature_dim,
        )
        self.register_buffer('feat_mean', mean)
        self.register_buffer('feat_std', std)

    # ------------------------------------------------------------------ inputs
    def _image_hw(self, sample) -> tuple[int, int]:
        meta = sample.metainfo
        key = 'img_shape' if self.region_frame == 'input' else 'ori_shape'
        if meta.get(key) is not None:
            return tuple(int(v) for v in meta[key][:2])
        if self.region_frame == 'original' and meta.get('height') and meta.get('width'):
            return int(meta['height']), int(meta['width'])
        raise KeyError(
            f'ReIRGrounder: sample {meta.get("img_id")} has no {key} (nor height/'
            "width): add them to PackGroundingInputs' meta_keys"
        )

    def relations(self, caption: str, spans) -> list[tuple[int, int, int]]:
        """(i, j, class) of the caption's linked phrase pairs (class 0: not in C_r)."""
        key = (caption, tuple(tuple(s) for s in spans))
        if key not in self._relations:
            self._relations[key] = [
                (i, j, self.relation_ids.get(text, 0))
                for i, j, text in caption_relations(caption, key[1])
            ]
        return self._relations[key]

    def _embed(self, feats: Tensor, boxes: Tensor, hw: Tensor) -> Tensor:
        """(..., D), (..., 4), (..., 2) -> (..., d)."""
        shape = feats.shape[:-1]
        normed = (feats.reshape(-1, feats.shape[-1]) - self.feat_mean) / self.feat_std
        out = self.region_embedder(normed, boxes.reshape(-1, 4), hw.reshape(-1, 2))
        return out.reshape(*shape, -1)

    # ------------------------------------------------------------------ the model
    def _run(self, inputs: Optional[Tensor], data_samples: SampleList) -> dict:
        device = self.feat_mean.device
        num = len(data_samples)
        texts = [t for s in data_samples for t in s.metainfo['phrases']]
        encoded = self.phrase_encoder(
            [s.metainfo['caption'] for s in data_samples],
            [s.metainfo['phrase_spans'] for s in data_samples],
            [s.metainfo['phrases'] for s in data_samples],
        )
        x_q, owner = encoded['phrases'], encoded['owner']  # (P, d), (P,)

        boxes = pad_sequence(
            [s.proposals.bboxes.float() for s in data_samples], batch_first=True
        ).to(device)  # (B, M, 4)
        lengths = torch.tensor([len(s.proposals.bboxes) for s in data_samples], device=device)
        mask = torch.arange(boxes.shape[1], device=device)[None] < lengths[:, None]  # (B, M)
        labels = pad_sequence(
            [s.proposals.labels.long() for s in data_samples], batch_first=True
        ).to(device)  # (B, M)
        image_hw = torch.tensor([self._image_hw(s) for s in data_samples], device=device)
        feature_map = None
        if self.roi_extractor is not None:
            if inputs is None:
                raise ValueError('online region features need the image inputs')
            feature_map = self.roi_extractor.feature_map(inputs.to(device).float())
            feats = pad_sequence(
                self.roi_extractor.pool(feature_map, [s.proposals.bboxes for s in data_samples]),
                batch_first=True,
            )
        else:
            feats = pad_sequence(
                [s.proposals.feats.float() for s in data_samples], batch_first=True
            ).to(device)  # (B, M, D)
        embedded = self._embed(
            feats[mask], boxes[mask], image_hw[:, None].expand(-1, boxes.shape[1], -1)[mask]
        )  # (N_valid, d); bfloat16 under autocast
        x_o = embedded.new_zeros((*mask.shape, embedded.shape[-1]))
        x_o[mask] = embedded

        # stage 1: coarse matching over the M boxes of each phrase's image
        regions, valid, hw = x_o[owner], mask[owner], image_hw[owner]  # (P,M,d), (P,M), (P,2)
        scores_c, deltas_c = self.matching_head(x_q, regions)  # (P, M), (P, M, 4)
        prior = (
            self.label_prior(texts, labels[owner])
            if self.label_prior is not None
            else torch.ones_like(scores_c)
        )  # (P, M)
        alpha_c = prior_softmax(scores_c, prior, valid)
        out = dict(
            x_q=x_q,
            owner=owner,
            phrase_ids=encoded['phrase_ids'],
            captions=encoded['captions'],
            boxes_c=boxes[owner],
            valid_c=valid,
            hw=hw,
            alpha_c=alpha_c,
            deltas_c=deltas_c,
            z_c=(alpha_c[..., None] * regions).sum(dim=1),
        )
        edges, edge_labels, offset = [], [], 0
        for s in data_samples:
            for i, j, c in self.relations(s.metainfo['caption'], s.metainfo['phrase_spans']):
                edges.append((offset + i, offset + j))
                edge_labels.append(c)
            offset += len(s.metainfo['phrases'])
        out['edges'] = torch.tensor(edges, dtype=torch.long, device=device).reshape(-1, 2)
        out['edge_labels'] = torch.tensor(edge_labels, dtype=torch.long, device=device)
        if not self.two_stage:
            return out

        # the top K boxes, moved by δ^c once the regression is on
        k = min(self.topk, boxes.shape[1])
        alpha_top, top = alpha_c.topk(k, dim=1)  # (P, K)
        valid_top = valid.gather(1, top)
        boxes_top = gather_rows(out['boxes_c'], top)  # (P, K, 4)
        refine = self.regression_loss is not None and (
            not self.training or self.regression_switch > 0
        )
        if refine:
            boxes_top = decode_clipped(
                self.coder, boxes_top, gather_rows(deltas_c, top), hw
            ).detach()
            if feature_map is not None:  # re-pool at the moved boxes, image by image
                pooled = self.roi_extractor.pool(
                    feature_map, [boxes_top[owner == b].reshape(-1, 4) for b in range(num)]
                )
                feats_top = torch.zeros((*top.shape, feats.shape[-1]), device=device)
                for b in range(num):
                    feats_top[owner == b] = pooled[b].reshape(-1, k, feats.shape[-1])
            else:
                feats_top = gather_rows(feats[owner], top)  # the cached path keeps them
            x_top = self._embed(feats_top, boxes_top, hw[:, None].expand(-1, k, -1))
        else:
            x_top = gather_rows(regions, top)  # (P, K, d)

        # visual object graph (Eq. 5-8)
        if self.object_graph is not None:
            z = (alpha_top[..., None] * x_top).sum(dim=1)  # (P, d)
            x_top = x_top + alpha_top[..., None] * self.object_graph(z, out['edges'])[:, None]

        # stage 2: fine matching over V_i
        scores_f, deltas_f = self.matching_head(x_q, x_top)  # (P, K), (P, K, 4)
        prior_top = prior.gather(1, top)
        alpha_f = prior_softmax(scores_f, prior_top, valid_top)
        out.update(
            top=top,
            alpha_top=alpha_top,
            boxes_f=boxes_top,
            valid_f=valid_top,
            alpha_f=alpha_f,
            deltas_f=deltas_f,
            z_f=(alpha_f[..., None] * x_top).sum(dim=1),
        )
        return out

    def _ranking(self, z: Tensor, out: dict, positives: Tensor) -> Tensor:
        """Image (the mean z of its caption's phrases) against caption features, over the
        images and captions of every process (the negatives of the global batch)."""
        num = out['captions'].shape[0]
        counts = torch.bincount(out['owner'], minlength=num).clamp(min=1).to(z.dtype)
        images = z.new_zeros((num, z.shape[1])).index_add_(0, out['owner'], z) / counts[:, None]
        images = gather_with_grad(self.image_projection(images))  # (B_all, r)
        captions = gather_with_grad(self.caption_projection(out['captions']))  # (B_all, r)
        similarity = images @ captions.T / self.rank_dim**0.5  # (B_all images, B_all captions)
        return self.ranking_loss(similarity, positives)

    # ------------------------------------------------------------------ modes
    def loss(self, inputs: Optional[Tensor], data_samples: SampleList, **kwargs) -> dict:
        out = self._run(inputs, data_samples)
        stages = [('s1', 'c')] + ([('s2', 'f')] if self.two_stage else [])
        losses = {}
        for name, key in stages:
            logits, targets, mask = self.phrase_decoder(out[f'z_{key}'], out['phrase_ids'])
            losses[f'loss_rec_{name}'] = self.reconstruction_loss(logits, targets, mask)
        if self.ranking_loss is not None:
            img_ids = [str(s.metainfo['img_id']) for s in data_samples]
            if dist.is_available() and dist.is_initialized() and get_world_size() > 1:
                img_ids = [i for ids in all_gather_object(img_ids) for i in ids]
            positives = torch.tensor(
                [[a == b for b in img_ids] for a in img_ids], device=out['x_q'].device
            )
            for name, key in stages:
                losses[f'loss_rank_{name}'] = self._ranking(out[f'z_{key}'], out, positives)
        if self.regression_loss is not None:
            for name, key in stages:
                losses[f'loss_reg_{name}'] = self.regression_switch * self.regression_loss(
                    out[f'deltas_{key}'],
                    out[f'boxes_{key}'],
                    out[f'alpha_{key}'],
                    valid=out[f'valid_{key}'],
                )
        if self.relation_classifier is not None:
            z, edges = out['z_f'], out['edges']
            logits = self.relation_classifier(z[edges[:, 0]], z[edges[:, 1]])
            losses['loss_rel'] = self.relation_loss(logits, out['edge_labels'])
        return losses

    @torch.no_grad()
    def predict(self, inputs: Optional[Tensor], data_samples: SampleList, **kwargs) -> SampleList:
        out = self._run(inputs, data_samples)
        answers = reir_answers(
            out,
            coder=self.coder if self.regression_loss is not None else None,
            two_stage=self.two_stage,
        )
        stage1, stage2, fused = answers['stage1'], answers['stage2'], answers['fused']
        ranked_boxes, ranked_scores = answers['ranked_boxes'], answers['ranked_scores']
        if self.region_frame == 'input':  # back to original image pixels
            scale = torch.tensor(
                [list(s.metainfo['scale_factor'][:2]) * 2 for s in data_samples],
                device=stage1.device,
            )[out['owner']]
            stage1, stage2, fused = stage1 / scale, stage2 / scale, fused / scale
            ranked_boxes = ranked_boxes / scale[:, None]
        for i, sample in enumerate(data_samples):
            own = out['owner'] == i
            num_real = int(out['valid_c'][own].sum(dim=1).min()) if bool(own.any()) else 0
            keep = max(min(ranked_boxes.shape[1], num_real), 1)  # no padding boxes
            sample.pred_boxes = ranked_boxes[own][:, :keep]  # (P_i, K, 4)
            sample.pred_scores = ranked_scores[own][:, :keep]
            sample.pred_boxes_stage1 = stage1[own]
            sample.pred_boxes_stage2 = stage2[own]
            sample.pred_boxes_fused = fused[own]
        return data_samples

    def _forward(
        self, inputs: Optional[Tensor] = None, data_samples: Optional[SampleList] = None, **kwargs
    ) -> Tensor:
        """(P, M) coarse attention α^c of every phrase over its image's boxes."""
        return self._run(inputs, data_samples)['alpha_c']
