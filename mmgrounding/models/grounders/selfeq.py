"""SelfEQ (He et al., CVPR 2024): ALBEF whose phrase and paraphrase explanations agree.

Box-free: for each training text t with a paraphrase t' (``metainfo['paraphrase']``, attached
by :class:`~mmgrounding.datasets.transforms.LoadParaphrases`), the Grad-CAM maps G of t and G'
of t' over the same fusion cross-attention layer as AMC are asked to agree
(:class:`~mmgrounding.models.losses.SelfConsistencyLoss`), and t' gets ALBEF's ITC, ITM and
MLM as well. Everything but the paraphrase branch is :class:`ALBEFGrounder`.
"""

import torch
from torch import Tensor

from mmgrounding.registry import MODELS
from mmgrounding.structures import SampleList

from .albef import ALBEFGrounder


@MODELS.register_module()
class SelfEQGrounder(ALBEFGrounder):
    """ALBEF plus SelfEQ's paraphrase branch; predicts Grad-CAM heatmaps per phrase.

    The step: ALBEF's losses of the captions (``loss_itc``, ``loss_itm``, ``loss_mlm``; with
    the ITM positives explained, ``create_graph=True``), then, over the samples that carry a
    paraphrase, ``loss_para_itc``, ``loss_para_itm``, ``loss_para_mlm`` of the paraphrases and
    ``loss_sim`` + ``loss_cst`` of the two maps (SelfEQ: MLM + ITC + ITM + L_sim + 0.5 L_cst).
    The branch runs on the samples of each process alone (hard negatives and ITC candidates
    from the local paraphrases and the queue), as the official code does, so processes with
    different numbers of paraphrases need no collective. ``paraphrase_frac`` (logged, not a
    loss) is the share of the batch that had one; with fewer than two the branch is skipped
    and its losses are zeros that keep the graph.

    Args:
        self_consistency_loss: config of ``SelfConsistencyLoss``.
        paraphrase_loss_weights: weights of the paraphrase's ``itc``, ``itm``, ``mlm`` (1 each).
        original_losses: keep ALBEF's losses of the original texts (True, as the issue and the
            paper's text describe the objective); False gives the official code's paraphrase
            step, where the originals train only through their maps.
        explainer: as in :class:`ALBEFGrounder`, with per-sample min–max normalisation (the
            official code's), which the threshold k of R assumes.
        amc_loss: None (SelfEQ uses no boxes); a config adds AMC as well.
        **kwargs: the arguments of :class:`ALBEFGrounder`; ``explain_positives_only``
            defaults to True here (both branches explain their positives only).
    """

    def __init__(
        self,
        *,
        self_consistency_loss: dict = dict(type='SelfConsistencyLoss'),
        paraphrase_loss_weights: dict | None = None,
        original_losses: bool = True,
        explainer: dict = dict(
            type='GradCAMExplainer',
            target_layer='fusion.layers.2.crossattention.self',
            normalize='minmax',
        ),
        amc_loss: dict | None = None,
        **kwargs,
    ) -> None:
        kwargs.setdefault('explain_positives_only', True)
        super().__init__(explainer=explainer, amc_loss=amc_loss, **kwargs)
        self.consistency_loss = MODELS.build(self_consistency_loss)
        self.paraphrase_loss_weights = {
            **dict(itc=1.0, itm=1.0, mlm=1.0),
            **(paraphrase_loss_weights or {}),
        }
        self.original_losses = original_losses

    def loss(self, inputs: Tensor, data_samples: SampleList, **kwargs) -> dict:
        losses, state = self.albef_losses(inputs, data_samples, explain=True)
        if not self.original_losses:
            # the originals' ITM pass still gives their maps; only the map losses train it
            losses = {key: 0 * value for key, value in losses.items()}
        keep = [i for i, s in enumerate(data_samples) if s.metainfo.get('paraphrase')]
        losses.update(self.paraphrase_losses(inputs, data_samples, keep, state))
        losses['paraphrase_frac'] = torch.tensor(
            len(keep) / max(1, len(data_samples)), device=inputs.device
        )
        return losses

    def paraphrase_losses(
        self, inputs: Tensor, data_samples: SampleList, keep: list[int], state: dict
    ) -> dict:
        """The paraphrase branch over the samples ``keep`` (see the class docstring)."""
        names = ['loss_para_itc', 'loss_para_itm', 'loss_sim', 'loss_cst']
        if self.mlm_head is not None:
            names.append('loss_para_mlm')
        if len(keep) < 2:  # no hard negative to draw: the step trains without the branch
            zero = 0 * state['cam'].sum()
            return {name: zero for name in names}
        device = inputs.device
        rows = torch.tensor(keep, device=device)
        text = self.tokenize([data_samples[i].metainfo['paraphrase'] for i in keep], device)
        image_embeds, image_feat, image_feat_m, idx = (
            state[key][rows] for key in ('image_embeds', 'image_feat', 'image_feat_m', 'idx')
        )
        text_embeds, text_feat = self.encode_text(text)  # (P, L, D), (P, E)
        text_feat_m = self.teacher_text_feat(text)
        weights = self.paraphrase_loss_weights
        losses = {}
        losses['loss_para_itc'] = weights['itc'] * self.itc_loss(
            image_feat, text_feat, image_feat_m, text_feat_m, idx, state['queue'], gather=False
        )
        loss_itm, cam_para = self.itm_loss(
            image_embeds,
            image_feat,
            text_embeds,
            text_feat,
            text['attention_mask'],
            idx,
            explain=True,
            grid_hw=state['grid_hw'],
            gather=False,
            text_ids=text['input_ids'],
        )
        losses['loss_para_itm'] = weights['itm'] * loss_itm
        if self.mlm_head is not None:
            losses['loss_para_mlm'] = weights['mlm'] * self._mlm(text, image_embeds)
        losses.update(self.consistency_loss(state['cam'][rows], cam_para))
        return losses
