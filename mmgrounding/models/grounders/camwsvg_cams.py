"""CAM-WSVG's CAM branch, as a mixin of :class:`CAMWSVGGrounder`: the query noun -> classifier
class link and, per query with a class, the frozen classifier's Grad-CAM turned into CAM tokens
and a refined map by the CAM encoder (paper §3.3)."""

import json
from typing import Optional, Sequence, Union

import torch
from torch import Tensor

from mmgrounding.text.noun_classes import NounClassMapper


class CAMBranchMixin:
    """Needs ``classifier``, ``explainer``, ``cam_encoder`` (or all None), ``noun_mapper``,
    ``class_maps`` and ``dim`` on the module."""

    @staticmethod
    def build_noun_mapper(
        class_names: Sequence[str],
        *,
        match: str,
        class_synsets: Optional[Union[Sequence[str], str]] = None,
    ) -> NounClassMapper:
        """The query noun -> classifier classes link (``class_match``, ``class_synsets``)."""
        if isinstance(class_synsets, str):  # a SynthGround meta.json: category -> synset
            with open(class_synsets, encoding='utf-8') as f:
                senses = {p['name']: p['synset'] for p in json.load(f).get('pictograms', [])}
            missing = [name for name in class_names if name not in senses]
            if missing:
                raise ValueError(f'{class_synsets} gives no synset of the classes {missing}')
            class_synsets = [senses[name] for name in class_names]
        return NounClassMapper(class_names, match=match, class_synsets=class_synsets)

    def _cams(self, images: Tensor, owner: Tensor, texts: list[str]) -> dict:
        """Class mask (P, C), Grad-CAM maps, CAM tokens (P, M, C_p) and their mask (P, M)."""
        num = len(texts)
        device = images.device
        if self.classifier is None:
            return dict(
                tokens=images.new_zeros((num, 0, self.dim)),
                mask=torch.zeros((num, 0), dtype=torch.bool, device=device),
            )
        num_classes = self.classifier.head.out_features
        class_mask = torch.zeros((num, num_classes), dtype=torch.bool, device=device)
        for p, text in enumerate(texts):
            class_mask[p, self.noun_mapper.classes_of_phrase(text)] = True
        has = class_mask.any(dim=1)
        queries = has.nonzero()[:, 0]  # (Q,)
        query_images = images[owner[queries]]  # (Q, 3, H, W)
        with torch.enable_grad(), self.explainer.watch(self.classifier) as captured:
            logits = self.classifier(query_images.detach())
            if self.class_maps == 'top' and len(queries):  # the noun's best-scored class
                top = logits.detach().masked_fill(~class_mask[queries], float('-inf'))
                class_mask = class_mask.clone()
                class_mask[queries] = False
                class_mask[queries, top.argmax(dim=1)] = True
            score = (logits * class_mask[queries]).sum(dim=1)  # (Q,)
            if len(queries):
                raw = self.explainer.explain(score, captured['activations']).detach()
                acts = captured['activations'].detach()
        if not len(queries):  # no query has a class: the map grid from one forward pass
            with torch.no_grad(), self.explainer.watch(self.classifier) as captured:
                self.classifier(images[:1])
            acts = captured['activations'][:0].detach()
            raw = acts.new_zeros((0, *acts.shape[2:]))
        tokens, refined = self.cam_encoder(
            raw, acts if self.cam_encoder.feature_channels else None
        )  # (Q, M, C_p), (Q, h, w)
        all_tokens = tokens.new_zeros((num, tokens.shape[1], self.dim))
        all_tokens[queries] = tokens
        return dict(
            tokens=all_tokens,
            mask=has[:, None].expand(-1, tokens.shape[1]),
            class_mask=class_mask,
            queries=queries,
            query_images=query_images,
            raw=raw,
            refined=refined,
        )
