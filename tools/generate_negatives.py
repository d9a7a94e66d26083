"""Write InfoGround's negative substitutes for every noun of a captions file.

    python tools/generate_negatives.py MLM_PATH \
        --captions data/synthground/coco/annotations/captions_train.json \
        --out data/synthground/infoground/negatives_reranked_train.json \
        [--mode reranked|plausible|random|random_captions] [--num-plausible 30] \
        [--num-negatives 25] \
        [--vocab-captions FILE] [--seed 0] [--limit N] [--save-every 500]

MLM_PATH is any local Hugging Face masked LM (``AutoModelForMaskedLM`` and
``AutoTokenizer``): bert-base-uncased for COCO / Flickr30k, the output of
``tools/train_text_mlm.py`` for SynthGround. Each noun of each caption (``tag_words``) is
masked. The candidates are the nouns of ``--vocab-captions`` (default: ``--captions``, the
split itself; words tagged NOUN in at least ``--min-noun-fraction`` of their occurrences)
that are single tokens of the LM; the LM's ``--num-plausible`` most likely candidates are
reranked by p / q and, without the noun itself, the best ``--num-negatives`` kept
(``mmgrounding/text/negatives.py``). ``--mode plausible`` skips the reranking (Table 2);
``random_captions`` draws Table 2's "random" row as the paper and the official sampler do:
for each noun, a random noun of each of ``--num-negatives`` random captions of other images
of ``--vocab-captions`` (seeded per caption and noun), then placed in the caption (the
official code reads it in its own caption: docs/methods/infoground.md); ``random``
(ours) draws the candidate vocabulary uniformly (seeded per caption).

The cache is one JSON file (format in ``mmgrounding.text.negatives.read_negatives``), written
atomically every ``--save-every`` captions and at the end. Running the command again resumes:
captions already in the file are skipped, and the settings (LM weights hash, mode, sizes,
seed, candidate vocabulary) must equal the file's, otherwise it stops and lists the
differences. ``--limit`` processes at most N new captions in this run.
"""

import argparse
import glob
import json
import os.path as osp
import time
from typing import Dict, List, Optional

import torch
from transformers import AutoModelForMaskedLM, AutoTokenizer

from mmgrounding.text import word_tokenize
from mmgrounding.text.negatives import (
    MODES,
    NEGATIVES_FORMAT,
    RANDOM_MODES,
    candidate_token_ids,
    caption_negatives,
    noun_positions,
    noun_vocabulary,
    random_caption_nouns,
    seeded_generator,
)
from mmgrounding.utils.atomic import atomic_write_json
from mmgrounding.utils.hashing import files_sha256


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('mlm', help='folder of a Hugging Face masked LM and its tokenizer')
    parser.add_argument('--captions', required=True, help='COCO-format captions file')
    parser.add_argument('--out', required=True, help='the cache (JSON)')
    parser.add_argument(
        '--vocab-captions', help='captions whose nouns are the candidates (default: --captions)'
    )
    parser.add_argument(
        '--min-noun-fraction',
        type=float,
        default=0.5,
        help='a candidate is tagged NOUN in at least this fraction of its '
        'occurrences in --vocab-captions',
    )
    parser.add_argument('--mode', choices=MODES, default='reranked')
    parser.add_argument('--num-plausible', type=int, default=30)
    parser.add_argument('--num-negatives', type=int, default=25)
    parser.add_argument('--seed', type=int, default=0, help='for --mode random and random_captions')
    parser.add_argument('--limit', type=int, help='at most this many new captions')
    parser.add_argument('--save-every', type=int, default=500)
    return parser.parse_args(argv)


def read_captions(path: str) -> List[dict]:
    """COCO-format caption annotations (id, image_id, caption), by id."""
    with open(path, encoding='utf-8') as f:
        annotations = json.load(f)['annotations']
    return sorted(annotations, key=lambda a: a['id'])


def weights_sha256(folder: str) -> Optional[str]:
    """sha256 over the weight files of a save_pretrained folder (None when there are none)."""
    files = sorted(
        glob.glob(osp.join(folder, '*.safetensors')) + glob.glob(osp.join(folder, '*.bin'))
    )
    return files_sha256(files) if files else None


def load_or_start(out: str, settings: dict, candidates: List[str]) -> dict:
    """The cache in ``out`` when its settings match, else a new empty one."""
    if not osp.isfile(out):
        return dict(format=NEGATIVES_FORMAT, settings=settings, candidates=candidates, captions={})
    with open(out, encoding='utf-8') as f:
        cache = json.load(f)
    if cache.get('format') != NEGATIVES_FORMAT:
        raise SystemExit(f'{out} is not a negatives cache; remove it or choose another --out')
    stored = cache['settings']
    # The LM's folder name is for people (a copied or renamed folder resumes); its weights
    # hash (reranked and plausible modes) and the candidates (its vocabulary) decide.
    differences = [
        f'  {k}: file {stored.get(k)!r}, now {v!r}'
        for k, v in settings.items()
        if stored.get(k) != v and k != 'mlm'
    ]
    if cache.get('candidates') != candidates:
        differences.append('  candidates: other words (another LM vocabulary or captions)')
    if differences:
        raise SystemExit(
            f'{out} was written with other settings; remove it or choose '
            f'another --out:\n' + '\n'.join(differences)
        )
    return cache


def count(cache: dict, num_negatives: int) -> Dict[str, int]:
    entries = cache['captions'].values()
    lists = [negs for e in entries for negs in e['negatives'].values()]
    return dict(
        captions=len(cache['captions']),
        nouns=len(lists),
        nouns_with_all_negatives=sum(len(n) == num_negatives for n in lists),
        nouns_without_negatives=sum(not n for n in lists),
        skipped_captions=sum(e.get('skipped', False) for e in entries),
    )


def main(argv=None) -> None:
    args = parse_args(argv)
    start = time.time()
    annotations = read_captions(args.captions)
    vocab_captions = args.captions if args.vocab_captions is None else args.vocab_captions
    nouns = noun_vocabulary(
        (a['caption'] for a in read_captions(vocab_captions)),
        min_noun_fraction=args.min_noun_fraction,
    )
    tokenizer = AutoTokenizer.from_pretrained(args.mlm)
    candidate_ids = candidate_token_ids(nouns, tokenizer.get_vocab())
    candidates = tokenizer.convert_ids_to_tokens(candidate_ids.tolist())
    print(
        f'{len(nouns)} nouns in {osp.basename(vocab_captions)}, {len(candidates)} of them '
        f'single tokens of the LM: the candidates'
    )
    model = None
    pool = None  # random_captions: the nouns and image of every --vocab-captions caption
    if args.mode == 'random_captions':
        pool_annotations = read_captions(vocab_captions)
        pool_nouns = []
        for a in pool_annotations:
            words = word_tokenize(a['caption'])
            pool_nouns.append([words[p] for p in noun_positions(words)])
        pool = (pool_nouns, [a['image_id'] for a in pool_annotations])
    if args.mode not in RANDOM_MODES:
        model = AutoModelForMaskedLM.from_pretrained(args.mlm).eval()
    settings = dict(
        mlm=osp.basename(osp.normpath(args.mlm)),
        mlm_sha256=weights_sha256(args.mlm) if model is not None else None,
        mode=args.mode,
        num_plausible=args.num_plausible,
        num_negatives=args.num_negatives,
        seed=args.seed if args.mode in RANDOM_MODES else None,
        captions=osp.basename(args.captions),
        vocab_captions=osp.basename(vocab_captions),
        min_noun_fraction=args.min_noun_fraction,
        num_candidates=len(candidates),
    )
    cache = load_or_start(args.out, settings, candidates)
    done_before = len(cache['captions'])
    todo = [a for a in annotations if str(a['id']) not in cache['captions']]
    if args.limit is not None:
        todo = todo[: args.limit]
    print(f'{len(annotations)} captions: {done_before} already in {args.out}, {len(todo)} to do')

    for n, annotation in enumerate(todo, 1):
        words = word_tokenize(annotation['caption'])
        positions = noun_positions(words)
        entry = dict(image_id=annotation['image_id'], words=words, negatives={})
        try:
            if pool is not None:
                chosen = {
                    p: random_caption_nouns(
                        *pool,
                        annotation['image_id'],
                        exclude=(words[p],),
                        num_negatives=args.num_negatives,
                        generator=seeded_generator(args.seed, f'{annotation["id"]}/{p}'),
                    )
                    for p in positions
                }
            else:
                with torch.no_grad():
                    chosen = caption_negatives(
                        model,
                        tokenizer,
                        words,
                        positions,
                        candidate_ids,
                        mode=args.mode,
                        num_plausible=args.num_plausible,
                        num_negatives=args.num_negatives,
                        generator=seeded_generator(args.seed, str(annotation['id'])),
                    )
            entry['negatives'] = {str(p): negs for p, negs in chosen.items()}
        except ValueError as error:  # a noun cut off by the LM's maximum length
            entry['skipped'] = True
            print(f'caption {annotation["id"]}: skipped ({error})')
        cache['captions'][str(annotation['id'])] = entry
        if n % args.save_every == 0:
            atomic_write_json(args.out, cache)
            print(f'{n}/{len(todo)} captions, {time.time() - start:.0f}s', flush=True)
    cache['counts'] = count(cache, args.num_negatives)
    atomic_write_json(args.out, cache)
    counts = cache['counts']
    print(
        f'{len(todo)} captions done in this run, {counts["captions"]} in the cache: '
        f'{counts["nouns"]} nouns, {counts["nouns_with_all_negatives"]} with '
        f'{args.num_negatives} negatives, {counts["nouns_without_negatives"]} without any, '
        f'{counts["skipped_captions"]} captions skipped ({time.time() - start:.1f}s) '
        f'-> {args.out}'
    )


if __name__ == '__main__':
    main()
