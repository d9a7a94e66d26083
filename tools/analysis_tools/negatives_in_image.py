"""How many of InfoGround's negative substitutes name something that is in the image.

    python tools/analysis_tools/negatives_in_image.py \
        data/synthground/infoground/negatives_reranked_train.json \
        --objects data/synthground/vg/objects.json [--out FILTERED.json]

L_lang (Eq. 9) treats every substitute s' of a noun s as wrong for the caption's image. A
substitute that names an object of the image ("ovals" for "shapes" in "two purple shapes
... two ovals") is a false negative; one with the same lemma as s ("oval" for "ovals") is a
synonym that reranking should have rejected. This tool counts both, using the object names
of a Visual Genome ``objects.json`` (its ``image_id`` must be the captions' image ids, as in
SynthGround's build) and WordNet lemmas (:func:`~mmgrounding.text.wordnet.lemmatize_noun`).

``--out`` writes a copy of the negatives cache without those substitutes: an *oracle*
diagnostic that uses the image's object labels, which weakly supervised training must not
see; it tells whether false negatives are what holds L_lang back, it is not a method. The
copy's settings record the filter, so a word cache made from it is told apart.
"""
import argparse
import json
from collections import Counter
from typing import Dict, Set

from mmgrounding.text.negatives import NEGATIVES_FORMAT
from mmgrounding.text.wordnet import lemmatize_noun
from mmgrounding.utils.atomic import atomic_write_json


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('negatives', help='a cache of tools/generate_negatives.py')
    parser.add_argument('--objects', required=True, help='Visual Genome objects.json')
    parser.add_argument('--out', help='write the cache without false negatives and synonyms')
    return parser.parse_args(argv)


def image_lemmas(objects_file: str) -> Dict[int, Set[str]]:
    """``{image id: lemmas of its objects' names}``."""
    with open(objects_file, encoding='utf-8') as f:
        images = json.load(f)
    lemmas = {}
    for index, image in enumerate(images):
        try:
            lemmas[int(image['image_id'])] = {
                lemmatize_noun(name) for obj in image['objects'] for name in obj['names']}
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f'{objects_file}: entry {index} needs an image_id and objects '
                             'with names') from e
    return lemmas


def classify(substitute: str, word: str, present: Set[str]) -> str:
    """``'same lemma'``, ``'in image'`` or ``'other'`` for one substitute of ``word``."""
    lemma = lemmatize_noun(substitute)
    if lemma == lemmatize_noun(word):
        return 'same lemma'
    return 'in image' if lemma in present else 'other'


def main(argv=None) -> None:
    args = parse_args(argv)
    with open(args.negatives, encoding='utf-8') as f:
        cache = json.load(f)
    if cache.get('format') != NEGATIVES_FORMAT:
        raise SystemExit(f'{args.negatives}: not a negatives cache of format '
                         f'{NEGATIVES_FORMAT!r}')
    lemmas = image_lemmas(args.objects)
    counts: Counter = Counter()
    for ann_id, entry in cache['captions'].items():
        present = lemmas.get(int(entry['image_id']))
        if present is None:
            raise SystemExit(f'{args.negatives}: caption {ann_id} is of image '
                             f"{entry['image_id']}, which {args.objects} does not have")
        for index, substitutes in entry['negatives'].items():
            word = entry['words'][int(index)]
            kept = []
            for substitute in substitutes:
                kind = classify(substitute, word, present)
                counts[kind] += 1
                if kind == 'other':
                    kept.append(substitute)
            entry['negatives'][index] = kept
    total = sum(counts.values())
    print(f'{args.negatives}: {total} substitutes; '
          + ', '.join(f'{kind} {counts[kind]} ({100 * counts[kind] / max(total, 1):.1f}%)'
                      for kind in ('in image', 'same lemma', 'other')))
    if args.out:
        cache['settings'] = dict(cache['settings'], oracle_filter=dict(
            objects=args.objects, removed=['in image', 'same lemma']))
        atomic_write_json(args.out, cache)
        print(f'without them -> {args.out}')


if __name__ == '__main__':
    main()
