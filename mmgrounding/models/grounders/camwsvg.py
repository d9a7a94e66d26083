"""CAM-WSVG: a CAM encoder with attention mining, multi-level visual features and a [REG]
fusion that regresses the box ("Improve weakly supervised visual grounding by learning where
to focus on"; docs/methods/camwsvg.md)."""

from typing import Optional, Sequence, Union

import torch
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy, bbox_overlaps, bbox_xyxy_to_cxcywh
from torch import Tensor, nn
from torch.nn.utils.rnn import pad_sequence

from mmgrounding.registry import MODELS
from mmgrounding.structures import SampleList

from ..losses.self_taught_regression_loss import delta_coder
from .albef import ALBEFGrounder
from .base import BaseGrounder
from .cam_agreement import cam_box_agreement
from .camwsvg_cams import CAMBranchMixin


@MODELS.register_module()
class CAMWSVGGrounder(CAMBranchMixin, BaseGrounder):
    """Per query (a phrase of a caption) and its image:

    1. visual: :class:`MultiLevelVisualEncoder` maps F^(3)_l of the chosen levels, flattened
       to tokens;
    2. text: BERT over ``[CLS] query [SEP]``, projected to C_p;
    3. CAM: the head noun's classes (:class:`NounClassMapper`), the Grad-CAM of their summed
       logit in a frozen :class:`CAMClassifier` (:class:`ConvGradCAMExplainer`), turned into
       CAM tokens and a refined map by :class:`CAMEncoder`; a query whose noun has no class
       gets no CAM tokens (counted in ``noun_mapper.unmatched``);
    4. the self-taught target (interpretation): :class:`PhraseProposalAttention` of the
       query over its image's detector proposals, trained by L_rec (the phrase's word pieces
       rebuilt from the attended feature by :class:`PhraseReconstructionDecoder`) and, with
       ``ranking_loss``, ReIR's image–caption ranking; its most attended proposal (plus the
       CAM map's agreement) is the target of the [REG] box (:class:`RegBoxLoss`), detached;
    5. fusion: :class:`RegTokenFusion` → :class:`RegBoxHead` → the box (normalised cx, cy, w, h
       of the whole image; with ``box_frame='proposal'`` the deltas of an anchor proposal
       whose code the [REG] tokens carry: the target at test time, select-then-refine).

    Losses: ``loss_rec``, ``loss_rank`` (with ``ranking_loss``), ``loss_reg`` (times
    ``regression_switch``, which :class:`LossWeightStaircaseHook` can raise from 0 once the
    attention has learned) and,
    with ``attention_mining_loss``, ``loss_am`` (the frozen classifier's class scores on the
    images with the refined map erased, :class:`AttentionMiningLoss`).

    Predictions: ``pred_boxes`` (P, 1, 4) the regressed box in original image pixels (also
    ``pred_boxes_fused`` (P, 4)), ``pred_scores`` (P, 1) ones, ``pred_boxes_target`` (P, 4)
    the self-taught target, and with a CAM encoder ``pred_cam_raw`` / ``pred_heatmaps``
    (P, h, w): the Grad-CAM map before and the refined map after the CAM encoder (zeros for
    queries without a class). The input must be the whole image resized (no padding): the
    box is relative to the image.

    Inputs: images (``inputs``), ``data_samples[i].proposals`` (``bboxes`` (M, 4) in original
    pixels, ``feats`` (M, D): ``LoadRegionFeatures`` before ``Resize``), metainfo ``phrases``
    and ``ori_shape`` (or ``height``/``width``).

    Args:
        visual_encoder: :class:`MultiLevelVisualEncoder` config.
        text_encoder: :class:`BertTextEncoder` config.
        tokenizer: ``dict(vocab_file=...)`` or ``dict(name_or_path=...)`` (as ALBEF).
        fusion: :class:`RegTokenFusion` config (``dim``, ``num_levels`` default from the
            visual encoder).
        box_head: :class:`RegBoxHead` config.
        proposal_attention: :class:`PhraseProposalAttention` config (``region_dim`` = D).
        phrase_decoder: :class:`PhraseReconstructionDecoder` config.
        classifier: :class:`CAMClassifier` config, or None (no CAM encoder: Table 3 row 1).
        explainer: :class:`ConvGradCAMExplainer` config (target path inside the classifier).
        cam_encoder: :class:`CAMEncoder` config (with ``classifier``).
        attention_mining_loss: :class:`AttentionMiningLoss` config, or None (no AM).
        reconstruction_loss: ``PhraseReconstructionLoss`` config.
        regression_loss: :class:`RegBoxLoss` config.
        class_match: :class:`NounClassMapper` ``match`` (``'hyponym'`` for ImageNet WordNet
            ids, ``'name'`` for a classifier trained on nouns, ``'wordnet'``: a hypernym
            names every class under it, a hyponym its nearest class above, CKD's head noun
            and collocations; SynthGround v2's synonyms and hypernyms).
        class_synsets: the classes' WordNet senses for ``'hyponym'`` / ``'wordnet'``: a list
            of synset names in class order, or a SynthGround ``meta.json`` whose
            ``pictograms`` give each category's ``synset``; None: each name's most frequent
            sense.
        class_maps: how a query whose noun has several classes is explained: ``'sum'`` (the
            Grad-CAM of the summed logits) or ``'top'`` (interpretation, for hypernyms: the
            Grad-CAM of the one class the classifier scores highest on the image, which is
            also the class of its L_am).
        max_text_length: token limit of a query.
        regression_switch: factor of ``loss_reg`` before any hook sets it.
        cam_target_weight: with a CAM encoder, the self-taught target is the proposal of the
            highest log α + ``cam_target_weight`` · soft IoU(T(A), box), A the query's refined
            CAM map (interpretation, docs/methods/camwsvg.md: what the CAM encoder and
            attention mining know about the noun's extent reaches the box); 0: argmax α.
        proposal_tokens: give the fusion one token per detector candidate (its layer-normalised
            feature projected to C_p plus an MLP code of its normalised cx, cy, w, h;
            interpretation of "the CNN also runs on the candidates of a VG detector", §3.1).
        box_frame: ``'image'`` (the paper's: [REG] regresses the box in the whole image) or
            ``'proposal'`` (ours, select-then-refine: the [REG] tokens get the code of an
            anchor proposal and the head's 4 outputs are its (dx, dy, dw, dh), decoded by
            ReIR's delta coder; the anchor is the self-taught target at test time and, in
            training, a proposal drawn among those of IoU >= ``anchor_iou`` with the target,
            the target included, so the box learns to move to the target as ReIR's
            self-taught regression does; docs/methods/camwsvg.md).
        anchor_iou: see ``box_frame``.
        ranking_loss: ``ImageCaptionRankingLoss`` config, or None. With it, ``loss_rank``:
            ReIR's image–caption ranking (its shared loss) of the score S[i, j] = mean over
            the phrases p of caption j of ⟨W_t t_p, W_z z_{p,i}⟩ / √d_r, z_{p,i} the
            phrase–proposal attention of p over image i's proposals (interpretation: the
            discriminative signal that makes α phrase-specific; L_rec alone does not).
        rank_dim: d_r, the projection size of the ranking score.
        label_prior: a label prior config (ReIR's ``WordNetLabelPrior``; ``class_names`` default
            to the classifier's, which must be the detector's classes), or None. With it the
            self-taught target adds ``label_prior_weight`` · s^a(phrase, the proposal's
            detector label) to its confidence (interpretation: the detector's class of a
            candidate, as ReIR's target uses it). Needs ``proposals.labels``.
        label_prior_weight: see ``label_prior``.
        test_box: which box ``predict`` ranks first in ``pred_boxes``: ``'reg'`` (the
            regressed [REG] box, the method's answer) or ``'target'`` (the self-taught target,
            the most attended proposal: to measure the target alone).
        data_preprocessor: as in :class:`mmengine.model.BaseModel`.
    """

    TEST_BOXES = ('reg', 'target')
    BOX_FRAMES = ('image', 'proposal')
    CLASS_MAPS = ('sum', 'top')

    def __init__(
        self,
        *,
        visual_encoder: dict,
        text_encoder: dict,
        tokenizer: dict,
        fusion: dict,
        box_head: dict,
        proposal_attention: dict,
        phrase_decoder: dict,
        classifier: Optional[dict] = None,
        explainer: Optional[dict] = None,
        cam_encoder: Optional[dict] = None,
        attention_mining_loss: Optional[dict] = None,
        reconstruction_loss: dict = dict(type='PhraseReconstructionLoss'),
        regression_loss: dict = dict(type='RegBoxLoss'),
        class_match: str = 'hyponym',
        class_synsets: Optional[Union[Sequence[str], str]] = None,
        class_maps: str = 'sum',
        max_text_length: int = 40,
        regression_switch: float = 1.0,
        cam_target_weight: float = 0.0,
        proposal_tokens: bool = False,
        box_frame: str = 'image',
        anchor_iou: float = 0.5,
        ranking_loss: Optional[dict] = None,
        rank_dim: int = 64,
        label_prior: Optional[dict] = None,
        label_prior_weight: float = 1.0,
        test_box: str = 'reg',
        data_preprocessor: Optional[dict] = None,
    ) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        if test_box not in self.TEST_BOXES:
            raise ValueError(f'test_box must be one of {self.TEST_BOXES}, got {test_box!r}')
        if box_frame not in self.BOX_FRAMES:
            raise ValueError(f'box_frame must be one of {self.BOX_FRAMES}, got {box_frame!r}')
        if class_maps not in self.CLASS_MAPS:
            raise ValueError(f'class_maps must be one of {self.CLASS_MAPS}, got {class_maps!r}')
        self.class_maps = class_maps
        self.test_box = test_box
        self.box_frame = box_frame
        self.anchor_iou = float(anchor_iou)
        self.coder = delta_coder((10.0, 10.0, 5.0, 5.0))  # ReIR's weights
        self.cam_target_weight = float(cam_target_weight)
        if (classifier is None) != (cam_encoder is None) or (
            (classifier is None) != (explainer is None)
        ):
            raise ValueError('classifier, explainer and cam_encoder go together')
        if attention_mining_loss is not None and classifier is None:
            raise ValueError('attention mining needs the classifier and the CAM encoder')
        self.visual_encoder = MODELS.build(visual_encoder)
        dim = self.visual_encoder.dim
        self.dim = dim
        self.text_encoder = MODELS.build(text_encoder)
        self.tokenizer = ALBEFGrounder._build_tokenizer(tokenizer)
        self.text_projection = nn.Linear(self.text_encoder.hidden_size, dim)
        self.fusion = MODELS.build(
            fusion, default_args=dict(dim=dim, num_levels=len(self.visual_encoder.levels))
        )
        self.box_head = MODELS.build(
            box_head,
            default_args=dict(
                in_dim=self.fusion.out_dim,
                activation='sigmoid' if box_frame == 'image' else 'none',
            ),
        )
        if box_frame == 'proposal' and self.box_head.activation != 'none':
            raise ValueError("box_frame='proposal' needs a box head with activation='none'")
        self.proposal_attention = MODELS.build(
            proposal_attention, default_args=dict(query_dim=dim, dim=dim)
        )
        self.phrase_decoder = MODELS.build(
            phrase_decoder,
            default_args=dict(num_words=len(self.tokenizer), in_dim=self.proposal_attention.dim),
        )
        self.ranking_loss = MODELS.build(ranking_loss) if ranking_loss else None
        if self.ranking_loss is not None:
            self.rank_text = nn.Linear(dim, rank_dim)
            self.rank_region = nn.Linear(self.proposal_attention.dim, rank_dim)
        self.rank_dim = rank_dim
        self.proposal_embed = self.box_embed = None
        if proposal_tokens:  # the detector candidates as fusion tokens: feature + box code
            region_dim = self.proposal_attention.norm.normalized_shape[0]
            self.proposal_embed = nn.Sequential(
                nn.LayerNorm(region_dim), nn.Linear(region_dim, dim)
            )
            self.box_embed = nn.Sequential(
                nn.Linear(4, dim), nn.ReLU(inplace=True), nn.Linear(dim, dim)
            )
        self.anchor_embed = None
        if box_frame == 'proposal':  # the anchor proposal's feature + box code -> [REG]
            region_dim = self.proposal_attention.norm.normalized_shape[0]
            self.anchor_embed = nn.ModuleDict(
                dict(
                    feat=nn.Sequential(nn.LayerNorm(region_dim), nn.Linear(region_dim, dim)),
                    box=nn.Sequential(
                        nn.Linear(4, dim), nn.ReLU(inplace=True), nn.Linear(dim, dim)
                    ),
                )
            )
        self.reconstruction_loss = MODELS.build(reconstruction_loss)
        self.regression_loss = MODELS.build(regression_loss)
        self.classifier = MODELS.build(classifier) if classifier else None
        self.explainer = MODELS.build(explainer) if explainer else None
        self.cam_encoder = (
            MODELS.build(cam_encoder, default_args=dict(dim=dim)) if cam_encoder else None
        )
        self.attention_mining_loss = (
            MODELS.build(attention_mining_loss) if attention_mining_loss else None
        )
        self.noun_mapper = None
        if self.classifier is not None:
            if self.classifier.class_names is None:
                raise ValueError('the CAM classifier needs class_names for the noun link')
            self.noun_mapper = self.build_noun_mapper(
                self.classifier.class_names, match=class_match, class_synsets=class_synsets
            )
        self.label_prior = None
        if label_prior is not None:
            names = self.classifier.class_names if self.classifier is not None else None
            self.label_prior = MODELS.build(label_prior, default_args=dict(class_names=names))
        self.label_prior_weight = float(label_prior_weight)
        self.max_text_length = max_text_length
        self.regression_switch = float(regression_switch)

    # ------------------------------------------------------------------ inputs
    @staticmethod
    def _image_hw(sample) -> tuple[int, int]:
        meta = sample.metainfo
        if meta.get('ori_shape') is not None:
            return tuple(int(v) for v in meta['ori_shape'][:2])
        if meta.get('height') and meta.get('width'):
            return int(meta['height']), int(meta['width'])
        raise KeyError(
            f'CAMWSVGGrounder: sample {meta.get("img_id")} has no ori_shape (nor height/width)'
        )

    def _text(self, texts: list[str], device: torch.device) -> dict:
        tokens = self.tokenizer(
            texts,
            padding='longest',
            truncation=True,
            max_length=self.max_text_length,
            return_tensors='pt',
        )
        ids, mask = tokens['input_ids'].to(device), tokens['attention_mask'].to(device)
        feats = self.text_projection(self.text_encoder(ids, mask))  # (P, L, C_p)
        weights = mask.to(feats.dtype)[..., None]
        pooled = (feats * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1)  # (P, C_p)
        special = torch.tensor(self.tokenizer.all_special_ids, device=device)
        words = [row[~torch.isin(row, special)] for row in ids]  # the word pieces
        return dict(feats=feats, mask=mask.bool(), pooled=pooled, words=words)

    def _run(self, inputs: Tensor, data_samples: SampleList) -> dict:
        images = inputs.float()
        device = images.device
        texts = [t for s in data_samples for t in s.metainfo['phrases']]
        owner = torch.tensor(
            [i for i, s in enumerate(data_samples) for _ in s.metainfo['phrases']],
            dtype=torch.long,
            device=device,
        )  # (P,)
        text = self._text(texts, device)
        levels = self.visual_encoder(images)  # per level (B, C_p, h, w)
        visual = [level.flatten(2).transpose(1, 2)[owner] for level in levels]  # (P, N_l, C_p)
        cams = self._cams(images, owner, texts)

        props = self._proposals(data_samples, owner)
        feats, valid, whwh = props['feats'], props['valid'], props['whwh']
        candidates = None
        if self.proposal_embed is not None:
            candidates = (self.proposal_embed(feats) + self.box_embed(props['box_code']))[owner]
        target = self._self_taught_target(texts, text, cams, props, owner, data_samples)
        reg_context, anchor_xyxy = self._anchor_context(target, props)
        reg = self.fusion(
            visual,
            text['feats'],
            text['mask'],
            cams['tokens'],
            cams['mask'],
            text_pooled=text['pooled'],
            proposals=candidates,
            proposal_mask=None if candidates is None else props['query_valid'],
            reg_context=reg_context,
        )
        pred = self.box_head(reg)  # (P, 4) normalised cx, cy, w, h, or deltas
        if anchor_xyxy is not None:  # select-then-refine: the anchor moved by the deltas
            pred = bbox_xyxy_to_cxcywh(self.coder.decode(anchor_xyxy / whwh, pred))
        return dict(
            texts=texts,
            owner=owner,
            text=text,
            cams=cams,
            pred=pred,
            alpha=target['alpha'],
            z=target['z'],
            has_boxes=target['has_boxes'],
            target_xyxy=target['xyxy'].detach(),
            whwh=whwh,
            feats=feats,
            valid=valid,
        )

    def _proposals(self, data_samples: SampleList, owner: Tensor) -> dict:
        """The images' detector proposals padded to (B, M): ``boxes`` (B, M, 4) original
        pixels, ``feats`` (B, M, D), ``valid`` (B, M) and ``box_code`` (B, M, 4) the boxes as
        image-normalised cx, cy, w, h; per query (the rows of ``owner``, gathered once):
        ``query_boxes`` (P, M, 4), ``query_feats`` (P, M, D), ``query_valid`` (P, M) and
        ``whwh`` (P, 4) its image's W, H, W, H."""
        device = owner.device
        boxes = pad_sequence(
            [s.proposals.bboxes.float() for s in data_samples], batch_first=True
        ).to(device)  # (B, M, 4)
        feats = pad_sequence(
            [s.proposals.feats.float() for s in data_samples], batch_first=True
        ).to(device)  # (B, M, D)
        lengths = torch.tensor([len(s.proposals.bboxes) for s in data_samples], device=device)
        valid = torch.arange(boxes.shape[1], device=device)[None] < lengths[:, None]  # (B, M)
        image_hw = torch.tensor([self._image_hw(s) for s in data_samples], device=device)
        whwh_image = image_hw.flip(-1).repeat(1, 2).float()[:, None]  # (B, 1, 4)
        box_code = bbox_xyxy_to_cxcywh(boxes / whwh_image).clamp(0, 1)  # (B, M, 4)
        return dict(
            boxes=boxes,
            feats=feats,
            valid=valid,
            box_code=box_code,
            query_boxes=boxes[owner],
            query_feats=feats[owner],
            query_valid=valid[owner],
            whwh=image_hw[owner].flip(-1).repeat(1, 2).float(),
        )

    def _self_taught_target(
        self,
        texts: list[str],
        text: dict,
        cams: dict,
        props: dict,
        owner: Tensor,
        data_samples: SampleList,
    ) -> dict:
        """Each query's self-taught target: its most confident proposal, the confidence being
        log α of the phrase–proposal attention, plus ``cam_target_weight`` times the refined
        CAM map's agreement with the box and ``label_prior_weight`` times the detector
        label's prior where configured. Returns ``alpha`` (P, M), ``z`` (P, d) the attended
        feature, ``best`` (P,) the proposal index, ``xyxy`` (P, 4) its box (zeros for an
        image without proposals) and ``has_boxes`` (P,)."""
        boxes, feats, valid = props['query_boxes'], props['query_feats'], props['query_valid']
        whwh, device = props['whwh'], boxes.device
        alpha, z = self.proposal_attention(text['pooled'], feats, valid)
        rows = torch.arange(len(texts), device=device)
        confidence = alpha.detach().clamp(min=1e-12).log()  # (P, M)
        if self.cam_target_weight and self.classifier is not None and len(cams['queries']):
            queries = cams['queries']
            am = self.attention_mining_loss
            agreement = cam_box_agreement(
                cams['refined'].detach(),
                boxes[queries] / whwh[queries, None],
                sigma=am.sigma if am is not None else 0.5,
                omega=am.omega if am is not None else 10.0,
            )  # (Q, M)
            confidence = confidence.index_add(0, queries, self.cam_target_weight * agreement)
        if self.label_prior is not None and boxes.shape[1]:  # the detector label's prior
            labels = pad_sequence(
                [s.proposals.labels.long() for s in data_samples], batch_first=True
            ).to(device)  # (B, M)
            prior = self.label_prior(texts, labels[owner]).to(confidence.dtype)  # (P, M)
            confidence = confidence + self.label_prior_weight * prior
        has_boxes = valid.any(dim=1)
        if boxes.shape[1]:
            best = confidence.masked_fill(~valid, float('-inf')).argmax(dim=1)  # (P,)
            best = best.masked_fill(~has_boxes, 0)
            xyxy = boxes[rows, best]
        else:
            best = rows.new_zeros(len(texts))
            xyxy = whwh.new_zeros((len(texts), 4))
        return dict(alpha=alpha, z=z, best=best, xyxy=xyxy, has_boxes=has_boxes)

    def _anchor_context(
        self, target: dict, props: dict
    ) -> tuple[Optional[Tensor], Optional[Tensor]]:
        """With ``box_frame='proposal'``: the anchor proposal of each query (the target at test
        time; in training one drawn among the proposals of IoU >= ``anchor_iou`` with it, the
        target included) as the [REG] tokens' context (P, C_p) and its box (P, 4), detached;
        ``(None, None)`` otherwise."""
        if self.anchor_embed is None:
            return None, None
        boxes, feats, valid = props['query_boxes'], props['query_feats'], props['query_valid']
        whwh = props['whwh']
        best, target_xyxy, has_boxes = target['best'], target['xyxy'], target['has_boxes']
        rows = torch.arange(len(best), device=best.device)
        anchor = best
        if self.training and boxes.shape[1]:  # a proposal near the target, or the target
            near = bbox_overlaps(target_xyxy[:, None], boxes)[:, 0]  # (P, M)
            near = (near >= self.anchor_iou) & valid
            near[rows, best] = True
            draw = torch.rand(near.shape, device=best.device).masked_fill(~near, -1.0)
            anchor = draw.argmax(dim=1)
        anchor_xyxy = (boxes[rows, anchor] if boxes.shape[1] else target_xyxy).detach()
        anchor_feat = (
            feats[rows, anchor] if boxes.shape[1] else feats.new_zeros((len(best), feats.shape[-1]))
        )
        reg_context = self.anchor_embed['feat'](anchor_feat) + self.anchor_embed['box'](
            bbox_xyxy_to_cxcywh(anchor_xyxy / whwh).clamp(0, 1)
        )
        return reg_context * has_boxes[:, None].to(reg_context.dtype), anchor_xyxy

    # ------------------------------------------------------------------ modes
    def loss(self, inputs: Tensor, data_samples: SampleList, **kwargs) -> dict:
        out = self._run(inputs, data_samples)
        logits, targets, mask = self.phrase_decoder(out['z'], out['text']['words'])
        losses = dict(loss_rec=self.reconstruction_loss(logits, targets, mask))
        target = bbox_xyxy_to_cxcywh(out['target_xyxy'] / out['whwh']).clamp(0, 1)
        losses['loss_reg'] = self.regression_switch * self.regression_loss(
            out['pred'], target, weights=out['has_boxes'].float()
        )
        if self.ranking_loss is not None:
            losses['loss_rank'] = self._ranking(out, data_samples)
        if self.attention_mining_loss is not None:
            cams = out['cams']
            erased = self.attention_mining_loss.erase(cams['query_images'], cams['refined'])
            scores = self.classifier(erased)  # (Q, C), frozen weights
            losses['loss_am'] = self.attention_mining_loss(
                scores, cams['class_mask'][cams['queries']], maps=cams['refined']
            )
        return losses

    def _ranking(self, out: dict, data_samples: SampleList) -> Tensor:
        """ReIR's image–caption ranking of S[i, j] = mean_{p in caption j} s(p, image i)."""
        feats, valid, owner = out['feats'], out['valid'], out['owner']
        num_p, num_b = len(owner), feats.shape[0]
        pooled = out['text']['pooled']  # (P, C_p)
        _, z = self.proposal_attention(
            pooled.repeat_interleave(num_b, dim=0),
            feats.repeat(num_p, 1, 1),
            valid.repeat(num_p, 1),
        )  # every phrase over every image: (P * B, d), phrase-major
        scores = (
            torch.einsum(
                'pd,pbd->pb', self.rank_text(pooled), self.rank_region(z).view(num_p, num_b, -1)
            )
            / self.rank_dim**0.5
        )  # (P, B images)
        counts = torch.bincount(owner, minlength=num_b).clamp(min=1).to(scores.dtype)
        captions = scores.new_zeros((num_b, num_b)).index_add(0, owner, scores) / counts[:, None]
        img_ids = [str(s.metainfo.get('img_id', i)) for i, s in enumerate(data_samples)]
        positives = torch.tensor([[a == b for b in img_ids] for a in img_ids], device=scores.device)
        return self.ranking_loss(captions.T, positives)  # rows images, columns captions

    @torch.no_grad()
    def predict(self, inputs: Tensor, data_samples: SampleList, **kwargs) -> SampleList:
        out = self._run(inputs, data_samples)
        boxes = bbox_cxcywh_to_xyxy(out['pred']).clamp(0, 1) * out['whwh']  # original pixels
        cams = out['cams']
        maps = {}
        if self.classifier is not None:
            grid = cams['refined'].shape[1:]
            for key, source in (('pred_cam_raw', 'raw'), ('pred_heatmaps', 'refined')):
                full = boxes.new_zeros((len(out['texts']), *grid))
                full[cams['queries']] = cams[source].float()
                maps[key] = full
        for i, sample in enumerate(data_samples):
            own = out['owner'] == i
            answer = boxes if self.test_box == 'reg' else out['target_xyxy']
            sample.pred_boxes = answer[own][:, None]  # (P_i, 1, 4)
            sample.pred_scores = boxes.new_ones((int(own.sum()), 1))
            sample.pred_boxes_fused = boxes[own]
            sample.pred_boxes_target = out['target_xyxy'][own]
            for key, value in maps.items():
                setattr(sample, key, value[own])
        return data_samples

    def _forward(self, inputs: Tensor, data_samples: Optional[SampleList] = None, **kwargs):
        """(P, 4) normalised (cx, cy, w, h) boxes of every query."""
        return self._run(inputs, data_samples)['pred']
