"""Does an ALBEF model's ITM match phrases to images? A diagnostic on a grounding split.

For each of the first ``--images`` images of the split (val by default): its own phrases
(positives) and as many phrases of the other images that are not among its own (negatives)
through the fusion encoder and the ITM head. Prints the mean match probability of both, the
accuracy at 0.5 and the AUC (positives ranked above negatives), the same AUC of the ITC
similarity (``itc_auc``: does the contrastive part tell them apart?), the spread of the match logit
over the pairs, the mean cosine between the Grad-CAM maps of different phrases of one image
(1: the maps ignore the phrase) and the normalised entropy of every fusion layer's
cross-attention (1: uniform over the image tokens).

    python tools/analysis_tools/itm_probe.py CONFIG CHECKPOINT [--images 200] [--split val]
"""

import argparse
import math
import random

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.runner import Runner, load_checkpoint

from mmgrounding.registry import MODELS
from mmgrounding.utils import register_all_modules


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--images', type=int, default=200, help='images of the split')
    parser.add_argument('--split', choices=('val', 'test'), default='val')
    parser.add_argument('--seed', type=int, default=0, help='draws the negatives')
    return parser.parse_args(argv)


def auc(pos: torch.Tensor, neg: torch.Tensor) -> float:
    """P(a positive scores above a negative), ties counted half."""
    greater = (pos[:, None] > neg[None]).float().mean()
    ties = (pos[:, None] == neg[None]).float().mean()
    return float(greater + 0.5 * ties)


@torch.no_grad()
def probe(model, items: list, *, seed: int) -> dict:
    """``items``: (image (1, 3, H, W), phrases) pairs; see the module docstring."""
    rng = random.Random(seed)
    pos, neg, logits, entropy = [], [], [], {}
    itc_pos, itc_neg = [], []
    layers = model.fusion.layers
    for layer in layers:
        layer.crossattention.self.keep_probs = True
    try:
        for i, (image, phrases) in enumerate(items):
            phrases = list(dict.fromkeys(phrases))
            others = [
                q for j, (_, qs) in enumerate(items) if j != i for q in qs if q not in phrases
            ]
            texts = phrases + rng.sample(others, min(len(phrases), len(others)))
            text = model.tokenize(texts, image.device)
            image_embeds = model.image_encoder(image).expand(len(texts), -1, -1)  # (P, 1+N, C)
            text_embeds, text_feat = model.encode_text(text)  # (P, L, D), (P, E)
            itc = text_feat @ model.encode_image(image)[1][0]  # (P,)
            itc_pos += itc[: len(phrases)].tolist()
            itc_neg += itc[len(phrases) :].tolist()
            # (P, 2): the ITM head's logits (with ``itm_itc_term``, plus the ITC term)
            logit = model.itm_logits(text_embeds, text['attention_mask'], image_embeds)
            prob = logit.softmax(-1)[:, 1]
            pos += prob[: len(phrases)].tolist()
            neg += prob[len(phrases) :].tolist()
            logits += logit[:, 1].tolist()
            real = text['attention_mask'].bool()  # (P, L)
            for k, layer in enumerate(layers):
                probs = layer.crossattention.self.probs  # (P, heads, L, N)
                ent = -(probs * probs.clamp_min(1e-12).log()).sum(-1) / math.log(probs.shape[-1])
                entropy.setdefault(k, []).extend(ent.transpose(1, 2)[real].flatten().tolist())
    finally:
        for layer in layers:
            layer.crossattention.self.keep_probs = False
            layer.crossattention.self.probs = None
    cosines = []
    for image, phrases in items:
        phrases = list(dict.fromkeys(phrases))
        if len(phrases) < 2:
            continue
        cam = F.normalize(model.explain_phrases(image, phrases).flatten(1), dim=1)  # (P, hw)
        sim = cam @ cam.T
        n = len(phrases)
        cosines.append(float((sim.sum() - sim.diag().sum()) / (n * (n - 1))))
    pos_t, neg_t = torch.tensor(pos), torch.tensor(neg)
    correct = (pos_t > 0.5).sum() + (neg_t <= 0.5).sum()
    return dict(
        positives=len(pos),
        p_match_positives=float(pos_t.mean()),
        p_match_negatives=float(neg_t.mean()),
        accuracy=float(correct) / (len(pos) + len(neg)),
        auc=auc(pos_t, neg_t),
        itc_auc=auc(torch.tensor(itc_pos), torch.tensor(itc_neg)),
        match_logit_std=float(torch.tensor(logits).std()),
        map_cosine_between_phrases=sum(cosines) / max(1, len(cosines)),
        cross_attention_entropy={k: sum(v) / len(v) for k, v in entropy.items()},
    )


def main(argv=None) -> None:
    args = parse_args(argv)
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(args.config)
    loader_cfg = cfg.val_dataloader if args.split == 'val' else cfg.test_dataloader
    loader_cfg.update(num_workers=0, persistent_workers=False, batch_size=1)
    loader = Runner.build_dataloader(loader_cfg)
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.eval()
    items = []
    for batch in loader:
        if len(items) >= args.images:
            break
        data = model.data_preprocessor(batch, False)
        items.append((data['inputs'], data['data_samples'][0].metainfo['phrases']))
    result = probe(model, items, seed=args.seed)
    entropy = ', '.join(f'{v:.3f}' for v in result.pop('cross_attention_entropy').values())
    print(
        ' | '.join(
            f'{k} {v:.3f}' if isinstance(v, float) else f'{k} {v}' for k, v in result.items()
        )
        + f' | cross-attention entropy per fusion layer {entropy}'
    )


if __name__ == '__main__':
    main()
