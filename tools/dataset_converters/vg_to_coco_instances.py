"""Write Visual Genome objects as COCO instances, to train an mmdet detector on them.

The detectors of the weakly supervised grounding papers (bottom-up attention, Anderson et
al. 2018) are Faster R-CNNs trained on Visual Genome objects. mmdet trains on COCO-format
files; this tool writes one per split, with the same categories in every file.

Examples (from the repository root)::

    # SynthGround: every object name is a category; the Flickr30k Entities split files
    python tools/dataset_converters/vg_to_coco_instances.py data/synthground/vg \
        --out data/synthground/detection/instances_train.json \
        --image-ids data/synthground/flickr30k_entities/train.txt
    # Visual Genome with bottom-up attention's 1600-class vocabulary (objects_vocab.txt)
    python tools/dataset_converters/vg_to_coco_instances.py data/vg \
        --out data/vg/instances_train.json --categories objects_vocab.txt \
        --image-ids train_ids.txt

The category order matters: mmdet's ``CocoDataset`` numbers its labels in the order of the
file's categories, whatever the order of the config's ``metainfo['classes']`` (which only
selects them), while the checkpoint names label i after ``classes[i]``. Pass the detector
config with ``--categories-from-config`` so that both orders agree and every tool that reads
the class names (region extraction, CKD's class mapping) gets the right ones.

Categories are the lines of ``--categories`` (a line may list synonyms separated by
commas; the first is the category name), or else every object name of ``objects.json``
(all images, not only the selected ones, so that every split gets the same list), most
frequent first (ties by name), limited to ``--num-categories``. Objects whose name is not
a category are dropped and counted. Boxes are VG's XYWH pixels clipped to the image
(``VisualGenomeTripletDataset``'s reader); image ``file_name`` comes from the url in
``image_data.json`` (``VG_100K/1.jpg``; SynthGround: ``images/1000001.jpg``).
"""
import argparse
import os.path as osp
import sys
from collections import Counter

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmgrounding.datasets.vg_reader import _VGReader  # noqa: E402
from mmgrounding.utils.atomic import atomic_write_json  # noqa: E402

FORMAT = 'mmgrounding-vg-coco-instances-v1'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('vg_dir', help='folder with image_data.json and objects.json')
    parser.add_argument('--out', required=True, help='output COCO instances JSON file')
    parser.add_argument('--image-ids', help='file with one image id per line (a split); '
                        'default: every image')
    parser.add_argument('--categories', help='vocabulary file, one category per line')
    parser.add_argument('--categories-from-config',
                        help="an mmdet config whose metainfo['classes'] are the categories, in "
                        'that order (see the note on the category order above)')
    parser.add_argument('--num-categories', type=int, default=None,
                        help='without --categories: keep the N most frequent names')
    parser.add_argument('--min-size', type=float, default=1.0,
                        help='drop boxes with a side shorter than this many pixels')
    return parser.parse_args(argv)


def read_vocabulary(path: str) -> list[list[str]]:
    """Categories of a vocabulary file: per line, its lower-case synonyms, name first."""
    categories = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            names = [' '.join(n.lower().split()) for n in line.split(',')]
            names = [n for n in names if n]
            if not names:
                continue
            categories.append(names)
    if not categories:
        raise ValueError(f'{path}: no categories')
    return categories


def read_categories(args: argparse.Namespace) -> list[list[str]] | None:
    if args.categories and args.categories_from_config:
        raise ValueError('give --categories or --categories-from-config, not both')
    if args.categories_from_config:
        from mmengine.config import Config
        classes = Config.fromfile(args.categories_from_config).get('metainfo', {}).get('classes')
        if not classes:
            raise ValueError(f"{args.categories_from_config}: no metainfo['classes']")
        return [[' '.join(str(c).lower().split())] for c in classes]
    return read_vocabulary(args.categories) if args.categories else None


def read_image_ids(path: str) -> list[str]:
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip()]


def vg_to_coco(vg_dir: str,
               *,
               image_ids: list[str] | None = None,
               categories: list[list[str]] | None = None,
               num_categories: int | None = None,
               min_size: float = 1.0) -> dict:
    """COCO instances of the VG objects of ``image_ids`` (all images when None).

    Returns:
        ``dict(info, images, annotations, categories)``; ``info['counts']`` holds the
        numbers of images, objects, and objects dropped (``unknown_category``,
        ``small_boxes``, and the reader's ``invalid_boxes`` / ``clipped_boxes`` /
        ``unnamed_objects``).
    """
    counts: Counter = Counter()
    reader = _VGReader(vg_dir, skip_invalid_boxes=True, counts=counts)
    objects = reader.read_objects({})
    if categories is None:
        frequency = Counter(o['name'] for objs in objects.values() for o in objs)
        names = sorted(frequency, key=lambda n: (-frequency[n], n))
        categories = [[n] for n in names[:num_categories]]
    category_of = {}
    for index, synonyms in enumerate(categories, start=1):
        for name in synonyms:
            category_of.setdefault(name, index)

    by_str = {str(k): k for k in reader.images}
    if image_ids is None:
        selected = list(reader.images)
    else:
        missing = [i for i in image_ids if i not in by_str]
        if missing:
            raise KeyError(f'{len(missing)} image ids are not in {vg_dir}/image_data.json, '
                           f'e.g. {missing[:3]}')
        selected = [by_str[i] for i in image_ids]

    images, annotations = [], []
    for image_id in selected:
        image = reader.images[image_id]
        images.append(dict(id=image_id, file_name=image['file_name'], width=image['width'],
                           height=image['height']))
        for obj in objects.get(image_id, []):
            category = category_of.get(obj['name'])
            if category is None:
                counts['unknown_category'] += 1
                continue
            x1, y1, x2, y2 = obj['box_xyxy']
            if min(x2 - x1, y2 - y1) < min_size:
                counts['small_boxes'] += 1
                continue
            annotations.append(
                dict(id=len(annotations) + 1, image_id=image_id, category_id=category,
                     bbox=[x1, y1, x2 - x1, y2 - y1],  # XYXY -> COCO XYWH
                     area=(x2 - x1) * (y2 - y1), iscrowd=0, vg_object_id=obj['object_id']))
    counts['images'] = len(images)
    counts['objects'] = len(annotations)
    return dict(
        info=dict(format=FORMAT, source=osp.abspath(vg_dir), counts=dict(sorted(counts.items()))),
        images=images,
        annotations=annotations,
        categories=[dict(id=i, name=syn[0], synonyms=syn[1:])
                    for i, syn in enumerate(categories, start=1)])


def main(argv=None) -> dict:
    args = parse_args(argv)
    coco = vg_to_coco(
        args.vg_dir,
        image_ids=read_image_ids(args.image_ids) if args.image_ids else None,
        categories=read_categories(args),
        num_categories=args.num_categories,
        min_size=args.min_size)
    atomic_write_json(args.out, coco)
    counts = coco['info']['counts']
    print(f"{counts['images']} images, {counts['objects']} objects, "
          f"{len(coco['categories'])} categories -> {args.out}")
    dropped = {k: v for k, v in counts.items() if k not in ('images', 'objects')}
    if dropped:
        print('dropped/clipped: ' + ', '.join(f'{k} {v}' for k, v in dropped.items()))
    return counts


if __name__ == '__main__':
    main()
