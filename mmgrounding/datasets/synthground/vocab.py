"""A WordPiece vocabulary (BERT ``vocab.txt``) trained on a build's text.

Real data uses bert-base-uncased's vocabulary; SynthGround's small text encoders use one of
its own words, trained with the `tokenizers` library on the COCO-captions and Visual Genome
files of the build.
"""
import glob
import json
import os
import os.path as osp
import tempfile

from tokenizers import BertWordPieceTokenizer


def collect_texts(data_root: str) -> list[str]:
    """Captions (``coco/annotations/captions_*.json``) and VG region descriptions/attributes."""
    texts = []
    for path in sorted(glob.glob(osp.join(data_root, 'coco', 'annotations', 'captions_*.json'))):
        with open(path) as f:
            texts.extend(a['caption'] for a in json.load(f)['annotations'])
    regions = osp.join(data_root, 'vg', 'region_descriptions.json')
    if osp.isfile(regions):
        with open(regions) as f:
            texts.extend(r['phrase'] for image in json.load(f) for r in image['regions'])
    attributes = osp.join(data_root, 'vg', 'attributes.json')
    if osp.isfile(attributes):
        with open(attributes) as f:
            for image in json.load(f):
                for obj in image['attributes']:
                    texts.append(' '.join(obj.get('attributes', []) + obj.get('names', [])))
    if not texts:
        raise FileNotFoundError(f'no captions or region descriptions under {data_root}')
    return texts


def train_vocab(texts: list[str], out_file: str, *, vocab_size: int = 1000) -> int:
    """Train and write ``out_file`` atomically; returns the vocabulary size."""
    tokenizer = BertWordPieceTokenizer(lowercase=True)
    tokenizer.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=1,
                                  show_progress=False)
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        tokenizer.save_model(tmp)
        os.replace(osp.join(tmp, 'vocab.txt'), out_file)
    return tokenizer.get_vocab_size()
