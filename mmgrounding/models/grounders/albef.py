"""ALBEF (Li et al., NeurIPS 2021) as a grounder, with the AMC objective (Yang et al., 2023).

Image encoder φv (ViT), text encoder φt (BERT layers 0–5), fusion encoder φf (BERT layers 6–11
with cross-attention to the image tokens). Objectives: ITC with a momentum teacher, queues and
momentum distillation; ITM on the fusion [CLS] with one hard negative image and text per
positive; MLM. With ``amc_loss`` set, Grad-CAM of the ITM positive logit over one fusion
cross-attention layer is trained to stay inside the annotated region of each (image, text)
pair. Prediction: the Grad-CAM map of each phrase, all phrases of an image in one pass.

This file builds the model and its encoders, and predicts; the momentum teacher and the ITC
queues are in ``albef_teacher.py``, the objectives' steps (``itc_loss``, ``itm_loss``,
``_amc``, ``_mlm``) in ``albef_objectives.py``. One
training step runs the text encoder once over the captions and their MLM copies and the fusion
encoder once over ITM's 3B pairs and MLM's B captions (each image's cross-attention keys and
values computed once and shared by its rows, the negative images' taken from the same
products); MLM's corruption is drawn first, before any dropout mask and ITM's negatives.
"""

import os.path as osp
import zlib

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.dist import get_world_size
from torch import Tensor, nn
from transformers import BertTokenizerFast
from transformers.models.bert.modeling_bert import BertOnlyMLMHead

from mmgrounding.registry import MODELS
from mmgrounding.structures import SampleList

from .albef_objectives import ALBEFObjectives
from .albef_teacher import MomentumTeacherMixin
from .base import BaseGrounder
from .utils import BOX_RANKING_RULES, rank_boxes_by_heatmap


def _stable_id(value) -> int:
    """An int64 id for an image id of any type (equal ids map to equal ints)."""
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text) if text.isdigit() else zlib.crc32(text.encode())


@MODELS.register_module()
class ALBEFGrounder(ALBEFObjectives, MomentumTeacherMixin, BaseGrounder):
    """ALBEF with optional AMC; predicts Grad-CAM heatmaps per phrase.

    Args:
        image_encoder: config of a ViT returning (B, 1 + N, C) tokens (``VisionTransformer``).
        text_encoder: config of ``BertTextEncoder`` (layers 0–5).
        fusion: config of ``ALBEFFusionEncoder`` (layers 6–11); ``image_dim`` is filled in.
        tokenizer: ``dict(vocab_file=...)`` (a WordPiece vocabulary, e.g. bert-base-uncased's
            ``vocab.txt``) or ``dict(name_or_path=...)`` (a local tokenizer folder).
        explainer: config of ``GradCAMExplainer``; its ``target_layer`` is relative to this
            model (ALBEF-base: ``'fusion.layers.2.crossattention.self'``).
        amc_loss: config of ``AMCLoss``, or None for plain ALBEF (gALBEF).
        embed_dim: ITC projection width.
        queue_size: ITC queue length Q (ALBEF: 65,536).
        teacher_decay: teacher = d · teacher + (1 − d) · student (ALBEF: 0.995).
        fast_teacher: the teacher's ITC image feature through the last ViT block for the
            class token alone (``VisionTransformer.forward_class_token``) and its update as
            one ``lerp`` pass over the weights: the same values up to float rounding (~1e-6),
            saving 12 of the ALBEF-base step's 872 GFLOP (docs/get_started.md). False
            (default) keeps the rounding that the SynthGround runs of
            ``results/synthground.json`` were trained with, so that they regenerate bitwise;
            the ALBEF-base configs (``configs/_base_/models/albef_base.py``) set True.
        distill_alpha: weight of the teacher's similarities in the ITC targets (0.4).
        distill_alpha_ramp: ramp the weight linearly from 0 over the first iterations, as the
            official ALBEF code does over its first epoch: an int (iterations), ``'epoch'``
            (the runner's iterations per epoch, max_iters / max_epochs) or None (no ramp).
            The iteration is the runner's (MessageHub ``iter``); outside a runner the full
            weight is used.
        temperature: initial ITC temperature, learnable, clamped to [0.001, 0.5].
        mlm_probability: share of tokens masked for MLM (80% [MASK], 10% random, 10% kept).
        max_text_length: tokens per text.
        max_text_length_test: tokens per phrase at prediction (official ALBEF/AMC
            evaluation: 25); None uses ``max_text_length``.
        text_pool: the text-side vector of ITC and ITM: ``'cls'`` (ALBEF; its BERT is
            pretrained) or ``'mean'`` of the real tokens, which trains much faster from random
            initialisation, where the [CLS] outputs start nearly identical for all texts.
        hard_negatives: ``'sample'`` (ALBEF: draw in proportion to the ITC similarity) or
            ``'hardest'`` (take the most similar non-matching pair; deterministic).
        itm_negatives: which pairs of the global batch may serve as ITM negatives:
            ``'other_image'`` (ALBEF: every pair of another image id) or
            ``'unannotated'``: also not a text that the batch annotates on the image, i.e.
            for image i no text equal to one of image i's texts, for text t no image that
            carries a text equal to t. For data whose texts repeat across images
            (SynthGround's "a red circle"), where ALBEF's rule takes true matches as
            negatives, and the most often when ITC's similarity draws them.
        loss_weights: weights of ``itc``, ``itm``, ``mlm`` and ``amc``; ``mlm=0`` builds no
            MLM head and skips the MLM passes (no ``loss_mlm``).
        explain_positives_only: when the maps are trained (AMC, SelfEQ), run the B positive
            pairs through the fusion encoder with the explained layer watched and the other
            rows (the 2B negative pairs and MLM's B corrupted captions) in a second pass with
            fused attention, instead of all rows in one watched pass (the same losses and
            maps up to float rounding; the double backward then runs through the positives
            only). False keeps the one-pass step.
        itm_itc_term: add to ITM's match logit (column 1) the cosine between the text's ITC
            feature (``text_proj`` of the pooled text tokens, detached: ITC trains it) and
            ``itm_fused_proj`` (built only with this option) of the pooled fusion output, over
            a learnable temperature ``itm_temp`` (initial ``temperature``). Its gradient with
            respect to the cross-attention probabilities is the similarity of each image
            token's attended value with the text's ITC direction, so the Grad-CAM of the match
            logit depends on the text once ITC has aligned texts and images, which ITM's
            linear head trained from scratch does not reach on SynthGround
            (docs/methods/selfeq.md). False (default): ALBEF's ITM head alone.
        box_area_power: when the test pipeline loads detector boxes (``LoadRegionFeatures``),
            ``predict`` also ranks them per phrase by heatmap mass inside the box divided by
            area ** ``box_area_power`` (AMC Table 3: 0.5) into ``pred_boxes`` for Recall@k.
        box_ranking: how that mass is taken (``rank_boxes_by_heatmap``'s ``rule``):
            ``'cover'`` (default: bilinear map, every pixel the box touches) or
            ``'amc_official'`` (the official AMC evaluation: bicubic map, truncated corners).
        data_preprocessor, init_cfg: as in :class:`mmengine.model.BaseModel`.
    """

    def __init__(
        self,
        *,
        image_encoder: dict,
        text_encoder: dict,
        fusion: dict,
        tokenizer: dict,
        explainer: dict = dict(
            type='GradCAMExplainer', target_layer='fusion.layers.2.crossattention.self'
        ),
        amc_loss: dict | None = dict(type='AMCLoss'),
        embed_dim: int = 256,
        queue_size: int = 65536,
        teacher_decay: float = 0.995,
        fast_teacher: bool = False,
        distill_alpha: float = 0.4,
        distill_alpha_ramp: int | str | None = None,
        temperature: float = 0.07,
        mlm_probability: float = 0.15,
        max_text_length: int = 30,
        max_text_length_test: int | None = None,
        hard_negatives: str = 'sample',
        itm_negatives: str = 'other_image',
        text_pool: str = 'cls',
        loss_weights: dict | None = None,
        box_area_power: float = 0.5,
        box_ranking: str = 'cover',
        explain_positives_only: bool = False,
        itm_itc_term: bool = False,
        data_preprocessor: dict | None = None,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.image_encoder = MODELS.build(image_encoder)
        self.text_encoder = MODELS.build(text_encoder)
        self.fusion = MODELS.build(dict(fusion, image_dim=self.image_encoder.embed_dim))
        text_dim = self.text_encoder.hidden_size
        self.vision_proj = nn.Linear(self.image_encoder.embed_dim, embed_dim)
        self.text_proj = nn.Linear(text_dim, embed_dim)
        self.itm_head = nn.Linear(text_dim, 2)
        self.loss_weights = {**dict(itc=1.0, itm=1.0, mlm=1.0, amc=1.0), **(loss_weights or {})}
        # Without MLM there is no MLM head: parameters that never receive a gradient would
        # stall DDP's gradient buckets (and the parameters sharing them would not be averaged).
        self.mlm_head = None
        if self.loss_weights['mlm'] > 0:
            self.mlm_head = BertOnlyMLMHead(self.text_encoder.config)
            # tie the MLM decoder to the word embeddings and its bias to the head's output
            # bias, as BERT and ALBEF do (transformers ties them in PreTrainedModel, which this
            # is not)
            predictions = self.mlm_head.predictions
            predictions.decoder.weight = self.text_encoder.bert.embeddings.word_embeddings.weight
            predictions.decoder.bias = predictions.bias
        self.temp = nn.Parameter(torch.tensor(float(temperature)))
        self.box_area_power = box_area_power
        if box_ranking not in BOX_RANKING_RULES:
            raise ValueError(f'box_ranking must be one of {BOX_RANKING_RULES}, got {box_ranking!r}')
        self.box_ranking = box_ranking
        self.explain_positives_only = explain_positives_only

        self.tokenizer = self._build_tokenizer(tokenizer)
        self.explainer = MODELS.build(explainer)
        self.amc_loss = MODELS.build(amc_loss) if amc_loss is not None else None

        # momentum teacher: a frozen copy updated by exponential moving average
        self._build_teacher(teacher_decay, fast=fast_teacher)
        self.distill_alpha = distill_alpha
        if not (
            distill_alpha_ramp is None
            or distill_alpha_ramp == 'epoch'
            or (isinstance(distill_alpha_ramp, int) and distill_alpha_ramp > 0)
        ):
            raise ValueError(
                "distill_alpha_ramp must be None, 'epoch' or a positive int, "
                f'got {distill_alpha_ramp!r}'
            )
        self.distill_alpha_ramp = distill_alpha_ramp
        self._build_queues(embed_dim, queue_size)

        if hard_negatives not in ('sample', 'hardest'):
            raise ValueError(
                f"hard_negatives must be 'sample' or 'hardest', got {hard_negatives!r}"
            )
        self.hard_negatives = hard_negatives
        if itm_negatives not in ('other_image', 'unannotated'):
            raise ValueError(
                f"itm_negatives must be 'other_image' or 'unannotated', got {itm_negatives!r}"
            )
        self.itm_negatives = itm_negatives
        if text_pool not in ('cls', 'mean'):
            raise ValueError(f"text_pool must be 'cls' or 'mean', got {text_pool!r}")
        self.text_pool = text_pool
        self.mlm_probability = mlm_probability
        self.max_text_length = max_text_length
        self.max_text_length_test = max_text_length_test
        # built last, so that every other module draws the same initial weights as without it
        self.itm_fused_proj = None
        if itm_itc_term:
            self.itm_fused_proj = nn.Linear(text_dim, embed_dim)
            self.itm_temp = nn.Parameter(torch.tensor(float(temperature)))

    @staticmethod
    def _build_tokenizer(cfg: dict) -> BertTokenizerFast:
        cfg = dict(cfg)
        if 'vocab_file' in cfg:
            vocab_file = cfg.pop('vocab_file')
            if not osp.isfile(vocab_file):
                raise FileNotFoundError(f'tokenizer vocabulary {vocab_file} does not exist')
            tokenizer = BertTokenizerFast(vocab=vocab_file, **cfg)
        else:
            tokenizer = BertTokenizerFast.from_pretrained(cfg.pop('name_or_path'), **cfg)
        if len(tokenizer) <= len(tokenizer.all_special_ids):
            raise ValueError(f'tokenizer {cfg} has no vocabulary beyond its special tokens')
        return tokenizer

    # ------------------------------------------------------------------ encoders
    def tokenize(
        self,
        texts: list[str],
        device: torch.device,
        *,
        same_length_across_processes: bool = False,
        max_length: int | None = None,
    ) -> dict:
        """Token ids and mask (B, L), padded to the longest text (of all processes when
        ``same_length_across_processes``, so that text features can be gathered), truncated
        to ``max_length`` (default ``max_text_length``)."""
        tokens = self.tokenizer(
            texts,
            padding='longest',
            truncation=True,
            max_length=max_length or self.max_text_length,
            return_tensors='pt',
        )
        ids, mask = tokens['input_ids'].to(device), tokens['attention_mask'].to(device)
        if same_length_across_processes and get_world_size() > 1:
            length = torch.tensor(ids.shape[1], device=device)
            dist.all_reduce(length, op=dist.ReduceOp.MAX)
            pad = int(length) - ids.shape[1]
            ids = F.pad(ids, (0, pad), value=self.tokenizer.pad_token_id)
            mask = F.pad(mask, (0, pad), value=0)
        return dict(input_ids=ids, attention_mask=mask)

    def fuse(
        self,
        text_embeds: Tensor,
        text_mask: Tensor,
        image_embeds: Tensor | None,
        *,
        image_kv: list | None = None,
        image_groups: list | None = None,
    ) -> Tensor:
        """Fusion encoder output (B, L, D) for per-pair text and image tokens.

        ``image_kv``: the images' ``fusion.image_keys_values`` (B rows), computed once for
        several passes, instead of ``image_embeds`` (then None); ``image_groups``: instead,
        groups of rows sharing images (``ALBEFFusionEncoder.forward``).
        """
        return self.fusion(
            text_embeds,
            text_mask.bool(),
            image_embeds,
            image_kv=image_kv,
            image_groups=image_groups,
        )

    def itm_logits(
        self,
        text_embeds: Tensor,
        text_mask: Tensor,
        image_embeds: Tensor | None,
        *,
        image_kv: list | None = None,
        image_groups: list | None = None,
    ) -> Tensor:
        """(B, 2) match logits of per-pair inputs (``image_kv``, ``image_groups``: as in
        :meth:`fuse`); column 1 is 'match' (with ``itm_itc_term`` the ITM head's plus the ITC
        term)."""
        fused = self.fuse(
            text_embeds, text_mask, image_embeds, image_kv=image_kv, image_groups=image_groups
        )
        return self.itm_head_logits(fused, text_embeds, text_mask)

    def itm_head_logits(self, fused: Tensor, text_embeds: Tensor, text_mask: Tensor) -> Tensor:
        """(B, 2) match logits of fusion outputs (B, L, D) (:meth:`itm_logits` after the
        fusion; ``text_embeds`` are the fused rows' text tokens)."""
        text = dict(attention_mask=text_mask)
        logits = self.itm_head(self._pool_text(fused, text))
        if self.itm_fused_proj is None:
            return logits
        text_feat = F.normalize(self.text_proj(self._pool_text(text_embeds, text)), dim=-1)
        fused_feat = F.normalize(self.itm_fused_proj(self._pool_text(fused, text)), dim=-1)
        term = (text_feat.detach() * fused_feat).sum(dim=-1) / self.itm_temp  # (B,)
        return logits + F.pad(term[:, None], (1, 0))  # (B, 2): the term on column 1

    def _pool_text(self, text_embeds: Tensor, text: dict) -> Tensor:
        """(B, L, D) -> (B, D): the [CLS] token (ALBEF) or the mean of the real tokens."""
        if self.text_pool == 'cls':
            return text_embeds[:, 0]
        mask = text['attention_mask'].to(text_embeds.dtype)[..., None]  # (B, L, 1)
        return (text_embeds * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)

    # ------------------------------------------------------------------ features for the losses
    def encode_image(self, inputs: Tensor) -> tuple[Tensor, Tensor]:
        """Image tokens (B, 1 + N, C) and the normalised ITC feature (B, E)."""
        image_embeds = self.image_encoder(inputs)
        return image_embeds, F.normalize(self.vision_proj(image_embeds[:, 0]), dim=-1)

    def encode_text(self, text: dict) -> tuple[Tensor, Tensor]:
        """Text tokens (B, L, D) and the normalised ITC feature (B, E)."""
        text_embeds = self.text_encoder(text['input_ids'], text['attention_mask'])
        return text_embeds, F.normalize(self.text_proj(self._pool_text(text_embeds, text)), dim=-1)

    # ------------------------------------------------------------------ losses
    def loss(self, inputs: Tensor, data_samples: SampleList, **kwargs) -> dict:
        losses, _ = self.albef_losses(inputs, data_samples, explain=self.amc_loss is not None)
        return losses

    def albef_losses(
        self, inputs: Tensor, data_samples: SampleList, *, explain: bool
    ) -> tuple[dict, dict]:
        """ITC, ITM, MLM (and AMC when configured) of the samples' captions.

        Args:
            explain: also compute the Grad-CAM maps of the ITM positives with
                ``create_graph=True`` (AMC needs them; so do methods built on this one).

        Returns:
            ``(losses, state)``: the weighted losses and what a method adding a branch reuses:
            ``image_embeds`` (B, 1 + N, C), ``image_feat`` and ``image_feat_m`` (B, E),
            ``idx`` (B,), ``queue`` (the queues before this step's enqueue), ``grid_hw`` and
            ``cam`` (B, h, w) Grad-CAM maps of the positives (None without ``explain``).
        """
        device = inputs.device
        texts = [s.metainfo['caption'] for s in data_samples]
        idx = torch.tensor([_stable_id(s.metainfo['img_id']) for s in data_samples], device=device)
        text = self.tokenize(texts, device, same_length_across_processes=True)
        with torch.no_grad():
            self.temp.clamp_(0.001, 0.5)
            if self.itm_fused_proj is not None:
                self.itm_temp.clamp_(0.001, 0.5)

        mlm = None
        if self.mlm_head is not None:  # MLM's corrupted captions (mask_tokens) and targets
            mlm = dict(zip(('input_ids', 'labels'), self.mask_tokens(text['input_ids'])))
        image_embeds, image_feat = self.encode_image(inputs)  # (B, 1+N, C), (B, E)
        if mlm is None:
            text_embeds, text_feat = self.encode_text(text)  # (B, L, D), (B, E)
        else:
            # the captions and their MLM copies in one text-encoder pass (2B rows)
            both_ids = torch.cat([text['input_ids'], mlm['input_ids']])  # (2B, L)
            both_embeds = self.text_encoder(both_ids, text['attention_mask'].repeat(2, 1))
            text_embeds, mlm['text_embeds'] = both_embeds.chunk(2)  # (B, L, D) each
            text_feat = F.normalize(self.text_proj(self._pool_text(text_embeds, text)), dim=-1)

        losses = {}
        with torch.no_grad():
            self._update_teacher()
            image_feat_m = self.teacher_image_feat(inputs)
            text_feat_m = self.teacher_text_feat(text)
        queue = self._queue_snapshot()
        losses['loss_itc'] = self.loss_weights['itc'] * self.itc_loss(
            image_feat, text_feat, image_feat_m, text_feat_m, idx, queue
        )
        self._enqueue(image_feat_m, text_feat_m, idx)

        grid_hw = self.image_encoder.patch_grid(inputs.shape[-2:])
        # the images' cross-attention keys and values, shared by ITM's positives, its text
        # negatives and MLM (computed once instead of in each of the three passes); in one
        # process also the copy ITM's negative images take theirs from (gradient to the
        # projections only, as for their detached tokens)
        image_kv_frozen = None
        if get_world_size() == 1:
            image_kv, image_kv_frozen = self.fusion.image_keys_values_with_frozen_copy(image_embeds)
        else:
            image_kv = self.fusion.image_keys_values(image_embeds)
        loss_itm, cam, mlm_fused = self._itm(
            image_embeds,
            image_feat,
            text_embeds,
            text_feat,
            text['attention_mask'],
            idx,
            explain=explain,
            grid_hw=grid_hw,
            image_kv=image_kv,
            image_kv_frozen=image_kv_frozen,
            text_ids=text['input_ids'],
            same_image_text=None if mlm is None else mlm['text_embeds'],
        )
        losses['loss_itm'] = self.loss_weights['itm'] * loss_itm
        if self.amc_loss is not None:
            losses['loss_amc'] = self.loss_weights['amc'] * self._amc(cam, data_samples, inputs)
        if mlm is not None:
            losses['loss_mlm'] = self.loss_weights['mlm'] * self.mlm_loss(mlm_fused, mlm['labels'])
        state = dict(
            image_embeds=image_embeds,
            image_feat=image_feat,
            image_feat_m=image_feat_m,
            idx=idx,
            queue=queue,
            grid_hw=grid_hw,
            cam=cam,
        )
        return losses, state

    # ------------------------------------------------------------------ prediction
    def explain_phrases(self, image: Tensor, phrases: list[str]) -> Tensor:
        """Grad-CAM maps (P, h, w) of P phrases over one image (1, 3, H, W), one pass."""
        device = image.device
        text = self.tokenize(phrases, device, max_length=self.max_text_length_test)
        with torch.enable_grad():
            # the image's cross-attention keys and values once, repeated for the P phrases
            image_kv = [
                tuple(t.expand(len(phrases), -1, -1, -1) for t in kv)
                for kv in self.fusion.image_keys_values(self.image_encoder(image))
            ]
            text_embeds = self.text_encoder(text['input_ids'], text['attention_mask'])
            with self.explainer.watch(self) as captured:
                logits = self.itm_logits(
                    text_embeds, text['attention_mask'], None, image_kv=image_kv
                )
            cam = self.explainer.explain(
                logits[:, 1],
                captured['probs'],
                text_mask=text['attention_mask'].bool(),
                grid_hw=self.image_encoder.patch_grid(image.shape[-2:]),
            )
        return cam.detach()

    def predict(self, inputs: Tensor, data_samples: SampleList, **kwargs) -> SampleList:
        for image, sample in zip(inputs, data_samples):
            phrases = sample.metainfo.get('phrases') or []
            if not phrases:
                sample.pred_heatmaps = inputs.new_zeros((0, 1, 1))
                continue
            cam = self.explain_phrases(image[None], phrases)  # (P, h, w) over the padded input
            # keep the part of the grid over the image (the rest is batch padding)
            img_h, img_w = sample.metainfo['img_shape'][:2]
            pad_h, pad_w = inputs.shape[-2:]
            grid_h, grid_w = cam.shape[-2:]
            keep_h = max(1, round(grid_h * img_h / pad_h))
            keep_w = max(1, round(grid_w * img_w / pad_w))
            sample.pred_heatmaps = cam[:, :keep_h, :keep_w]
            if 'proposals' in sample:  # cached detector boxes (LoadRegionFeatures): Recall@k
                sample.pred_boxes, sample.pred_scores = rank_boxes_by_heatmap(
                    sample.pred_heatmaps,
                    sample.proposals.bboxes,
                    sample.metainfo['ori_shape'],
                    area_power=self.box_area_power,
                    rule=self.box_ranking,
                )
        return data_samples
