"""Does CAM-WSVG's answer depend on the phrase? A diagnostic of a trained grounder on a split.

Over the phrases of the split (val by default), for the regressed box (``pred_boxes_fused``,
the answer) and for the self-taught target (``pred_boxes_target``, the most attended proposal
plus the CAM agreement): accuracy at IoU > 0.5 against the phrase's boxes (any of them),
pointing (the box centre inside one of them), and over the images with at least two phrases
of different ground truth the share whose phrases get pairwise distinct answers (IoU < 0.5
between every two of them; 0 when the box ignores the phrase). Also the standard deviation
of the regressed boxes' normalised (cx, cy, w, h) (0: one box for every query) and the same
numbers for two references: the image centre box (half the image, centred) and the
detector-score baseline (the proposal of the highest detection score, whatever the phrase).

    python tools/analysis_tools/camwsvg_probe.py CONFIG CHECKPOINT [--split val] [--images N]
"""

import argparse
import itertools
import json

import torch
from mmdet.structures.bbox import bbox_overlaps
from mmengine.config import Config, DictAction
from mmengine.runner import Runner, load_checkpoint

from mmgrounding.evaluation.metrics.utils import gt_boxes_and_index
from mmgrounding.registry import MODELS
from mmgrounding.utils import register_all_modules


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help="a trained grounder's checkpoint, or 'none' (untrained)")
    parser.add_argument('--split', choices=('val', 'test'), default='val')
    parser.add_argument('--images', type=int, default=0, help='first N images (0: all)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser.parse_args(argv)


def phrase_stats(boxes: torch.Tensor, gts: list[torch.Tensor]) -> tuple[list, list]:
    """Per phrase: IoU > 0.5 with one of its boxes; the box centre inside one of them."""
    hits, points = [], []
    for box, gt in zip(boxes, gts):
        if not len(gt):
            continue
        hits.append(bool((bbox_overlaps(box[None], gt)[0] > 0.5).any()))
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        points.append(
            bool(((gt[:, 0] <= cx) & (cx <= gt[:, 2]) & (gt[:, 1] <= cy) & (cy <= gt[:, 3])).any())
        )
    return hits, points


def distinct(boxes: torch.Tensor, gts: list[torch.Tensor]) -> bool | None:
    """None when the image has no two phrases of different ground truth; else whether every
    two such phrases got answers of IoU < 0.5."""
    pairs = [
        (a, b)
        for a, b in itertools.combinations(range(len(gts)), 2)
        if len(gts[a]) and len(gts[b]) and float(bbox_overlaps(gts[a], gts[b]).max()) < 0.5
    ]
    if not pairs:
        return None
    return all(float(bbox_overlaps(boxes[a][None], boxes[b][None])) < 0.5 for a, b in pairs)


def percent(values: list) -> float:
    values = [v for v in values if v is not None]
    return round(100.0 * sum(values) / max(len(values), 1), 2)


@torch.no_grad()
def probe(model, loader, *, max_images: int = 0) -> dict:
    answers = {key: ([], [], []) for key in ('reg', 'target', 'centre', 'detector')}
    normalised, images = [], 0
    for batch in loader:
        data = model.data_preprocessor(batch, False)
        for sample in model.predict(data['inputs'], data['data_samples']):
            gt, index = gt_boxes_and_index(sample)
            num = len(sample.metainfo['phrases'])
            gts = [gt[index == p] for p in range(num)]
            h, w = sample.metainfo['ori_shape'][:2]
            centre = torch.tensor([[w / 4, h / 4, 3 * w / 4, 3 * h / 4]]).expand(num, -1)
            sets = {
                'reg': sample.pred_boxes_fused.float().cpu(),
                'target': sample.pred_boxes_target.float().cpu(),
                'centre': centre,
                'detector': sample.proposals.bboxes[sample.proposals.scores.argmax()]
                .float()
                .cpu()[None]
                .expand(num, -1),
            }
            for key, boxes in sets.items():
                hits, points = phrase_stats(boxes, gts)
                answers[key][0].extend(hits)
                answers[key][1].extend(points)
                answers[key][2].append(distinct(boxes, gts))
            reg = sets['reg'] / torch.tensor([w, h, w, h])
            normalised.append(
                torch.stack(
                    [
                        (reg[:, 0] + reg[:, 2]) / 2,
                        (reg[:, 1] + reg[:, 3]) / 2,
                        reg[:, 2] - reg[:, 0],
                        reg[:, 3] - reg[:, 1],
                    ],
                    dim=1,
                )
            )
            images += 1
            if max_images and images >= max_images:
                break
        if max_images and images >= max_images:
            break
    out = {'captions': images, 'phrases': len(answers['reg'][0])}
    for key, (hits, points, dist) in answers.items():
        out[key] = dict(acc=percent(hits), pointing=percent(points), distinct=percent(dist))
    out['reg']['std_cxcywh'] = [round(float(v), 4) for v in torch.cat(normalised).std(dim=0)]
    return out


def main(argv=None) -> None:
    args = parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    if args.checkpoint != 'none':
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.eval()
    loader = Runner.build_dataloader(cfg[f'{args.split}_dataloader'])
    print(json.dumps(probe(model, loader, max_images=args.images), indent=1))


if __name__ == '__main__':
    main()
