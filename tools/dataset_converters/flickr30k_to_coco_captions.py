"""Write the captions of a Flickr30k Entities split as a COCO-format captions file.

InfoGround's Flickr30k-trained row (Table 1) draws its negatives from Flickr30k captions;
``tools/generate_negatives.py`` and ``tools/cache_word_features.py`` key their caches by
caption id. This writes every caption of the split with the global id of
``Flickr30kEntitiesDataset(caption_ids='global')`` (``int(image_id) * 100 + line``)::

    python tools/dataset_converters/flickr30k_to_coco_captions.py data/flickr30k \\
        --split train --out data/flickr30k/annotations/captions_train.json

Captions are the plain text of the sentence files (the ``[/EN#...`` markup removed), all of
them, also those without a grounded phrase.
"""

import argparse
import os.path as osp
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmgrounding.datasets.flickr30k_entities import caption_id, parse_sentence_line  # noqa: E402
from mmgrounding.datasets.utils import read_split_file  # noqa: E402
from mmgrounding.utils.atomic import atomic_write_json  # noqa: E402


def flickr30k_captions(root: str, split: str) -> dict:
    """COCO-format ``dict(images, annotations)`` of a split's captions."""
    split_file = osp.join(root, 'flickr30k_entities', f'{split}.txt')
    images, annotations = [], []
    for _, img_id in read_split_file(split_file):
        path = osp.join(root, 'flickr30k_entities', 'Sentences', f'{img_id}.txt')
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path} is missing (image {img_id} of {split_file})')
        images.append(dict(id=int(img_id), file_name=f'{img_id}.jpg'))
        with open(path, encoding='utf-8') as f:
            lines = f.read().split('\n')
        for line_no, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            caption, _ = parse_sentence_line(line, path=path, line_no=line_no)
            annotations.append(
                dict(
                    id=caption_id(img_id, line_no - 1, mode='global', where=f'{path}:{line_no}'),
                    image_id=int(img_id),
                    caption=caption,
                )
            )
    return dict(images=images, annotations=annotations)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='the Flickr30k folder (holding flickr30k_entities/)')
    parser.add_argument('--split', default='train')
    parser.add_argument('--out', required=True)
    args = parser.parse_args(argv)
    captions = flickr30k_captions(args.root, args.split)
    atomic_write_json(args.out, captions)
    print(
        f'{len(captions["images"])} images, {len(captions["annotations"])} captions -> {args.out}'
    )
    return captions


if __name__ == '__main__':
    main()
