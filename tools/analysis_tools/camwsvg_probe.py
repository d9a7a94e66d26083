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

``--noun-classes name wordnet ...`` measures instead the noun -> classifier-class link (no
model is built; CHECKPOINT is not read, give ``none``): for each ``class_match`` listed (with
the config's ``class_synsets`` for the WordNet ones, or ``--class-synsets``), over the split's
phrases, the share that get a class, the share whose classes hold the category of every
object the phrase names (SynthGround's ``vg/objects.json``: the object whose box is the
phrase's), the mean number of classes, and the most frequent nouns without one.
"""

import argparse
import collections
import itertools
import json
import os.path as osp

import torch
from mmdet.structures.bbox import bbox_overlaps
from mmengine.config import Config, DictAction
from mmengine.runner import Runner, load_checkpoint

from mmgrounding.evaluation.metrics.utils import gt_boxes_and_index
from mmgrounding.models.grounders.camwsvg import CAMWSVGGrounder
from mmgrounding.registry import DATASETS, MODELS
from mmgrounding.text.head_noun import head_noun
from mmgrounding.utils import register_all_modules


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help="a trained grounder's checkpoint, or 'none' (untrained)")
    parser.add_argument('--split', choices=('val', 'test'), default='val')
    parser.add_argument('--images', type=int, default=0, help='first N images (0: all)')
    parser.add_argument(
        '--noun-classes',
        nargs='+',
        metavar='MATCH',
        help='measure the noun -> class link for these class_match values (e.g. name wordnet)',
    )
    parser.add_argument(
        '--class-synsets', help="with --noun-classes: the classes' senses (a meta.json)"
    )
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


def object_categories(data_root: str) -> dict:
    """(image id, x1, y1, x2, y2) -> category name of SynthGround's Visual Genome objects."""
    with open(osp.join(data_root, 'vg', 'objects.json'), encoding='utf-8') as f:
        images = json.load(f)
    return {
        (str(image['image_id']), o['x'], o['y'], o['x'] + o['w'], o['y'] + o['h']): o['names'][0]
        for image in images
        for o in image['objects']
    }


def noun_class_stats(dataset, mapper, categories: dict) -> dict:
    """How the split's phrases map to classes (see ``--noun-classes``)."""
    matched, correct, counts, named = 0, 0, [], 0
    unmatched = collections.Counter()
    phrases = 0
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        for phrase in info['phrases']:
            phrases += 1
            classes = mapper.classes_of_phrase(phrase['text'])
            truth = {
                categories.get((str(info['img_id']), *(round(v) for v in box)))
                for box in phrase['boxes_xyxy']
            }
            named += bool(truth) and None not in truth
            if not classes:
                unmatched[head_noun(phrase['text']) or ''] += 1
                continue
            matched += 1
            counts.append(len(classes))
            names = {mapper.class_names[c] for c in classes}
            correct += bool(truth) and None not in truth and truth <= names
    return dict(
        phrases=phrases,
        with_class=percent([True] * matched + [False] * (phrases - matched)),
        with_box_category=named,
        classes_hold_category=round(100.0 * correct / max(named, 1), 2),
        mean_classes=round(sum(counts) / max(len(counts), 1), 2),
        unmatched_nouns=unmatched.most_common(8),
    )


def main(argv=None) -> None:
    args = parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    if args.noun_classes:
        loader = cfg[f'{args.split}_dataloader']
        dataset = DATASETS.build(dict(loader.dataset, pipeline=[]))
        categories = object_categories(loader.dataset.data_root)
        out = {}
        for match in args.noun_classes:
            synsets = args.class_synsets or cfg.model.get('class_synsets')
            mapper = CAMWSVGGrounder.build_noun_mapper(
                cfg.model.classifier.class_names,
                match=match,
                class_synsets=synsets if match != 'name' else None,
            )
            out[match] = noun_class_stats(dataset, mapper, categories)
        print(json.dumps(out, indent=1))
        return
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    if args.checkpoint != 'none':
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.eval()
    loader = Runner.build_dataloader(cfg[f'{args.split}_dataloader'])
    print(json.dumps(probe(model, loader, max_images=args.images), indent=1))


if __name__ == '__main__':
    main()
