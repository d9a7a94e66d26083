"""ALBEF's objectives as steps of :class:`~mmgrounding.models.grounders.ALBEFGrounder`: ITC
against the momentum teacher and the queue, ITM with hard negatives (and the Grad-CAM maps of
its positives), AMC of those maps, and MLM.

:class:`ALBEFObjectives` holds them as methods of the grounder; they read what
``ALBEFGrounder.__init__`` builds (``temp``, ``fusion``, ``itm_logits``, ``explainer``,
``amc_loss``, ``mlm_head``, ``tokenizer``, the ``distill_alpha*``, ``hard_negatives``,
``itm_negatives`` and ``mlm_probability`` settings).
"""

import torch
import torch.nn.functional as F
from mmengine.dist import get_world_size
from mmengine.logging import MessageHub
from torch import Tensor
from torch.nn.attention import SDPBackend, sdpa_kernel

from mmgrounding.structures import SampleList

from ..losses import distilled_targets, soft_cross_entropy
from .utils import boxes_to_mask, gather_without_grad


class ALBEFObjectives:
    """ITC, ITM, AMC and MLM of :class:`ALBEFGrounder` (see the module docstring)."""

    def itc_loss(
        self,
        image_feat: Tensor,
        text_feat: Tensor,
        image_feat_m: Tensor,
        text_feat_m: Tensor,
        idx: Tensor,
        queue: dict,
        *,
        gather: bool = True,
    ) -> Tensor:
        """ITC against the teacher's features of this batch and the queue (unweighted).

        Args:
            image_feat, text_feat: (B, E) student features of the pairs.
            image_feat_m, text_feat_m: (B, E) the teacher's.
            idx: (B,) image ids; pairs of the same image are positives.
            queue: :meth:`_queue_snapshot`.
            gather: candidates from every process (the batch's own features otherwise, for a
                branch whose size may differ between processes).
        """
        gather_fn = gather_without_grad if gather else (lambda t: t)
        with torch.no_grad():
            idx_all = torch.cat([gather_fn(idx)[None], queue['idx']], dim=1)  # (1, B_all + Q)
            image_feat_all = torch.cat(
                [gather_fn(image_feat_m).T, queue['image']], dim=1
            )  # (E, B_all + Q)
            text_feat_all = torch.cat([gather_fn(text_feat_m).T, queue['text']], dim=1)
            positives = idx[:, None] == idx_all  # (B, B_all + Q)
            alpha = self.current_distill_alpha()
            targets_i2t = distilled_targets(
                positives, image_feat_m @ text_feat_all / self.temp, alpha
            )
            targets_t2i = distilled_targets(
                positives, text_feat_m @ image_feat_all / self.temp, alpha
            )
        loss_i2t = soft_cross_entropy(image_feat @ text_feat_all / self.temp, targets_i2t)
        loss_t2i = soft_cross_entropy(text_feat @ image_feat_all / self.temp, targets_t2i)
        return (loss_i2t + loss_t2i).mean() / 2

    def current_distill_alpha(self) -> float:
        """The distillation weight at the runner's current iteration (``distill_alpha_ramp``)."""
        if self.distill_alpha_ramp is None:
            return self.distill_alpha
        hub = MessageHub.get_current_instance()
        step = hub.get_info('iter')
        ramp = self.distill_alpha_ramp
        if ramp == 'epoch':
            max_iters, max_epochs = hub.get_info('max_iters'), hub.get_info('max_epochs')
            ramp = max_iters // max_epochs if max_iters and max_epochs else None
        if step is None or not ramp:
            return self.distill_alpha
        return self.distill_alpha * min(1.0, step / ramp)

    def itm_loss(
        self,
        image_embeds: Tensor,
        image_feat: Tensor,
        text_embeds: Tensor,
        text_feat: Tensor,
        text_mask: Tensor,
        idx: Tensor,
        *,
        explain: bool,
        grid_hw: tuple[int, int],
        gather: bool = True,
        image_kv: list | None = None,
        image_kv_frozen: list | None = None,
        text_ids: Tensor | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """ITM with one hard negative image and text per positive (unweighted).

        The arguments are those of :meth:`_itm`; returns its ``(loss, cam)``.
        """
        loss, cam, _ = self._itm(
            image_embeds,
            image_feat,
            text_embeds,
            text_feat,
            text_mask,
            idx,
            explain=explain,
            grid_hw=grid_hw,
            gather=gather,
            image_kv=image_kv,
            image_kv_frozen=image_kv_frozen,
            text_ids=text_ids,
        )
        return loss, cam

    def _itm(
        self,
        image_embeds: Tensor,
        image_feat: Tensor,
        text_embeds: Tensor,
        text_feat: Tensor,
        text_mask: Tensor,
        idx: Tensor,
        *,
        explain: bool,
        grid_hw: tuple[int, int],
        gather: bool = True,
        image_kv: list | None = None,
        image_kv_frozen: list | None = None,
        text_ids: Tensor | None = None,
        same_image_text: Tensor | None = None,
    ) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """ITM with one hard negative image and text per positive (unweighted).

        Args:
            explain: also return the Grad-CAM maps (B, h, w) of the positives' match logits,
                differentiable (``create_graph=True``).
            gather: hard negatives from the whole global batch (the local batch otherwise).
            image_kv: ``fusion.image_keys_values(image_embeds)`` if already computed.
            image_kv_frozen: with ``image_kv``, the copy of
                ``fusion.image_keys_values_with_frozen_copy`` (the keys and values of the
                detached tokens). When the candidates are this process's own rows (one
                process, or ``gather=False``), the negative images' keys and values are its
                rows, instead of being projected again from the detached tokens (the same
                values and gradients up to float rounding).
            text_ids: (B, L) token ids of the texts, padded alike in every process
                (:meth:`tokenize`); needed by ``itm_negatives='unannotated'``.
            same_image_text: (B, L, D) tokens of B more texts over the same images (mask
                ``text_mask``; MLM's corrupted captions), fused in the same pass as one more
                row per image (the fusion's weights are read once for all rows).

        Returns:
            ``(loss, cam, fused)``: ``cam`` is None without ``explain``; ``fused`` (B, L, D)
            the fusion output of ``same_image_text`` (None without).
        """
        batch = image_embeds.shape[0]
        # Candidates for hard negatives: the whole global batch. Gathered features carry no
        # gradient back to the process that computed them, so the negatives' embeddings are
        # taken without gradient in every process (and in single-process runs alike, so that
        # N processes optimise exactly the objective of one); the fusion layers and the ITM
        # head still learn from the negative pairs.
        local = not gather or get_world_size() == 1  # the candidates are this batch's rows
        gather_fn = gather_without_grad if not local else (lambda t: t)
        image_embeds_w, text_embeds_w, text_mask_w, image_feat_w, text_feat_w, idx_w = (
            gather_fn(t.detach())
            for t in (image_embeds, text_embeds, text_mask, image_feat, text_feat, idx)
        )
        with torch.no_grad():
            not_t2i, not_i2t = self._not_negatives(idx, idx_w, text_ids, gather_fn)  # (B, B_w)
            w_t2i = F.softmax(text_feat @ image_feat_w.T / self.temp, dim=1).masked_fill(not_t2i, 0)
            w_i2t = F.softmax(image_feat @ text_feat_w.T / self.temp, dim=1).masked_fill(not_i2t, 0)
            # a row with no negative candidate (all pairs share the image) samples uniformly
            # among the pairs of other images
            other = idx[:, None] != idx_w[None]
            w_t2i = torch.where(w_t2i.sum(1, keepdim=True) > 0, w_t2i, other.float() + 1e-6)
            w_i2t = torch.where(w_i2t.sum(1, keepdim=True) > 0, w_i2t, other.float() + 1e-6)
            if self.hard_negatives == 'sample':
                neg_image = torch.multinomial(w_t2i.float(), 1)[:, 0]  # (B,) per text an image
                neg_text = torch.multinomial(w_i2t.float(), 1)[:, 0]  # (B,) per image a text
            else:
                neg_image, neg_text = w_t2i.argmax(dim=1), w_i2t.argmax(dim=1)

        # rows: B positives (text b, image b), B (negative text of image b, image b), (B more
        # texts over image b,) B (text b, negative image of text b), in one fusion pass. The
        # image side enters the fusion only through each layer's cross-attention keys and
        # values: the B images' (with gradient) serve the first 2B (3B) rows, the rows of an
        # image without copies; the negative images' come from their detached tokens.
        neg_text_embeds, neg_text_mask = text_embeds_w[neg_text], text_mask_w[neg_text]
        same = [text_embeds, neg_text_embeds]
        same_mask = [text_mask, neg_text_mask]
        if same_image_text is not None:
            same.append(same_image_text)
            same_mask.append(text_mask)
        per_image = len(same)  # rows per image of this batch
        text_all = torch.cat([*same, text_embeds])  # (R, L, D)
        mask_all = torch.cat([*same_mask, text_mask])  # (R, L)
        if image_kv is None:
            if local:
                image_kv, image_kv_frozen = self.fusion.image_keys_values_with_frozen_copy(
                    image_embeds
                )
            else:
                image_kv = self.fusion.image_keys_values(image_embeds)
        if local and image_kv_frozen is not None:
            # the negative images are rows of this batch: their keys and values (gradient to
            # the projections only) without a second projection of their detached tokens
            neg_kv = [(k[neg_image], v[neg_image]) for k, v in image_kv_frozen]  # (B, h, N, d)
        else:
            neg_kv = self.fusion.image_keys_values(image_embeds_w[neg_image])
        labels = (
            torch.cat([torch.ones(batch), torch.zeros(2 * batch)]).long().to(image_embeds.device)
        )
        # the ITM rows of the fusion output and the extra texts' rows
        itm_rows = torch.cat(
            [torch.arange(2 * batch), torch.arange(per_image * batch, (per_image + 1) * batch)]
        ).to(image_embeds.device)
        extra_rows = slice(2 * batch, 3 * batch) if same_image_text is not None else None

        def outputs(fused: Tensor) -> tuple[Tensor, Tensor | None]:
            """ITM logits (3B, 2) and the extra texts' fusion output of a full pass."""
            logits = self.itm_head_logits(fused[itm_rows], text_all[itm_rows], mask_all[itm_rows])
            return logits, None if extra_rows is None else fused[extra_rows]

        all_groups = [(image_kv, per_image), (neg_kv, 1)]
        if not explain:
            logits, extra = outputs(self.fuse(text_all, mask_all, None, image_groups=all_groups))
            return F.cross_entropy(logits, labels), None, extra
        # A loss on the map differentiates the Grad-CAM gradient, so the fusion layers after
        # the explained one need twice-differentiable attention: the math kernel, not flash.
        rows = batch if self.explain_positives_only else text_all.shape[0]
        groups = [(image_kv, 1)] if self.explain_positives_only else all_groups
        with self.explainer.watch(self) as captured, sdpa_kernel(SDPBackend.MATH):
            fused = self.fuse(text_all[:rows], mask_all[:rows], None, image_groups=groups)
        if self.explain_positives_only:  # the other rows fused and without second order
            rest_groups = [(image_kv, per_image - 1), (neg_kv, 1)]
            rest = self.fuse(text_all[rows:], mask_all[rows:], None, image_groups=rest_groups)
            fused = torch.cat([fused, rest])
        logits, extra = outputs(fused)
        cam = self.explainer.explain(
            logits[:batch, 1],
            captured['probs'],
            text_mask=mask_all[:rows].bool(),
            grid_hw=grid_hw,
            create_graph=True,
        )[:batch]  # (B, h, w)
        return F.cross_entropy(logits, labels), cam, extra

    def _not_negatives(
        self, idx: Tensor, idx_w: Tensor, text_ids: Tensor | None, gather_fn
    ) -> tuple[Tensor, Tensor]:
        """(B, B_w) masks of the candidates that may not be the negative image of text b
        (first) and the negative text of image b (second); see ``itm_negatives``."""
        same_image = idx[:, None] == idx_w[None]  # (B, B_w)
        if self.itm_negatives == 'other_image':
            return same_image, same_image
        if text_ids is None:
            raise ValueError("itm_negatives='unannotated' needs the texts' token ids")
        ids_w = gather_fn(text_ids)  # (B_w, L)
        same_text = (text_ids[:, None] == ids_w[None]).all(-1)  # (B, B_w)
        same_text_w = (ids_w[:, None] == ids_w[None]).all(-1).float()  # (B_w, B_w)
        same_image_w = (idx_w[:, None] == idx_w[None]).float()  # (B_w, B_w)
        # image j carries a text equal to text b: some pair k of image j has text b's text
        t2i = (same_text.float() @ same_image_w) > 0
        # text j equals a text of image b: some pair k of image b has text j's text
        i2t = (same_image.float() @ same_text_w) > 0
        return same_image | t2i, same_image | i2t

    def _amc(self, cam: Tensor, data_samples: SampleList, inputs: Tensor) -> Tensor:
        """AMC of the positives' maps (B, h, w) against their boxes (unweighted)."""
        cam = F.interpolate(
            cam[:, None], size=inputs.shape[-2:], mode='bilinear', align_corners=False
        )[:, 0]  # (B, H, W)
        box_mask = torch.stack(
            [boxes_to_mask(s.gt_instances.bboxes, inputs.shape[-2:]) for s in data_samples]
        )  # (B, H, W)
        return self.amc_loss(cam, box_mask)

    def mask_tokens(self, input_ids: Tensor) -> tuple[Tensor, Tensor]:
        """BERT's MLM corruption of (B, L) token ids: 15% of the non-special tokens chosen,
        of those 80% [MASK], 10% a random token, 10% kept.

        Returns:
            ``(input_ids, labels)``: the corrupted ids and (B, L) targets, the true token at
            the chosen positions and -100 elsewhere.
        """
        input_ids = input_ids.clone()
        labels = input_ids.clone()
        special = torch.tensor(
            [[t in self.tokenizer.all_special_ids for t in row] for row in input_ids.tolist()],
            device=input_ids.device,
        )
        prob = torch.full(labels.shape, self.mlm_probability, device=input_ids.device)
        masked = torch.bernoulli(prob).bool() & ~special
        labels[~masked] = -100
        replace = torch.bernoulli(torch.full(labels.shape, 0.8, device=labels.device)).bool()
        input_ids[masked & replace] = self.tokenizer.mask_token_id
        randomize = torch.bernoulli(torch.full(labels.shape, 0.5, device=labels.device)).bool()
        randomize &= masked & ~replace
        input_ids[randomize] = torch.randint(
            len(self.tokenizer), labels.shape, device=labels.device
        )[randomize]
        return input_ids, labels

    def _mlm(self, text: dict, image_embeds: Tensor, *, image_kv: list | None = None) -> Tensor:
        """Masked language modelling conditioned on the image (:meth:`mask_tokens`).

        ``image_kv``: ``fusion.image_keys_values(image_embeds)`` if already computed.
        """
        input_ids, labels = self.mask_tokens(text['input_ids'])
        text_embeds = self.text_encoder(input_ids, text['attention_mask'])
        if image_kv is not None:
            image_embeds = None
        fused = self.fuse(text_embeds, text['attention_mask'], image_embeds, image_kv=image_kv)
        return self.mlm_loss(fused, labels)

    def mlm_loss(self, fused: Tensor, labels: Tensor) -> Tensor:
        """MLM's cross-entropy of the fusion output (B, L, D) of corrupted captions against
        the :meth:`mask_tokens` targets (B, L) (-100: not a target)."""
        masked = labels != -100
        if not bool(masked.any()):  # zero, with a (zero) gradient for every MLM parameter
            return self.mlm_head(fused[:, :1]).sum() * 0
        # the head (and its vocabulary-wide decoder) only at the masked tokens: the loss is
        # the mean over them, as cross_entropy(ignore_index=-100) over all tokens gives
        logits = self.mlm_head(fused[masked])  # (M, vocab)
        return F.cross_entropy(logits, labels[masked])
