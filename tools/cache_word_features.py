"""Write InfoGround's word-feature cache: the frozen encoder's features of every training caption.

    python tools/cache_word_features.py CONFIG --out DIR \
        [--negatives data/synthground/infoground/negatives_reranked_train.json] \
        [--dtype float16|float32] [--batch-size 64] [--save-every 1000] [--limit N]

The model of CONFIG (an ``InfoGroundGrounder``) is built and initialised as training does
(``MODELS.build(cfg.model)``, ``init_weights()``; the frozen encoder's weights come from
``text_encoder.pretrained``), and every caption of ``cfg.train_dataloader.dataset`` goes
through :meth:`InfoGroundGrounder.caption_word_features`: the token features and offsets of
the caption and, with ``--negatives`` (the cache of ``tools/generate_negatives.py``), the
feature of each substitute in its substituted caption. Each caption's entry is written to
``DIR/captions/<caption_id>.npz`` atomically (layout in
``mmgrounding/datasets/word_feature_cache.py``); training reads it with
``dict(type='LoadWordFeatures', cache_dir=DIR)``.

Running the command again resumes: captions with an entry are skipped, and the settings in
``DIR/meta.json`` (encoder weights and tokenizer hashes, ``max_text_length``, ``--dtype``,
the negatives file's hash) must equal this run's, otherwise it stops and lists the
differences. ``--batch-size`` sequences (captions, or substituted captions) go through the
encoder at a time; the counts in ``meta.json`` are updated and progress is printed every
``--save-every`` captions; ``--limit`` caches at most N new captions in this run.
"""
import argparse
import time
from typing import List, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmgrounding.apis.builds import retarget_synthground
from mmgrounding.datasets.transforms.negatives import lookup_negatives
from mmgrounding.datasets.word_feature_cache import WordFeatureCache, word_cache_settings
from mmgrounding.registry import DATASETS, MODELS
from mmgrounding.text.negatives import read_negatives
from mmgrounding.utils import register_all_modules


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='an InfoGround config')
    parser.add_argument('--out', required=True, help='the cache folder')
    parser.add_argument('--negatives', help='negatives cache of tools/generate_negatives.py')
    parser.add_argument('--synthground-root', metavar='DIR',
                        help="another SynthGround build: the config's paths under "
                        'data/synthground/ (captions, masked LM) move to DIR')
    parser.add_argument('--dtype', choices=('float16', 'float32'), default='float16',
                        help='how features are stored')
    parser.add_argument('--batch-size', type=int, default=64,
                        help='sequences per encoder pass')
    parser.add_argument('--save-every', type=int, default=1000,
                        help='update the counts in meta.json and print progress this often')
    parser.add_argument('--limit', type=int, help='at most this many new captions')
    parser.add_argument('--device', default='cuda:0' if torch.cuda.is_available() else 'cpu')
    return parser.parse_args(argv)


def dataset_captions(cfg: Config) -> List[Tuple[str, str]]:
    """``(caption_id, caption)`` of every caption of ``cfg.train_dataloader.dataset``.

    The dataset is built without its pipeline. Items with one caption (``caption_id``,
    ``caption``) or all captions of an image (``caption_ids``, ``captions``) are read;
    a caption id met twice with two texts raises (the cache is keyed by caption id).
    """
    dataset_cfg = cfg.train_dataloader.dataset
    if 'pipeline' in dataset_cfg:
        dataset_cfg = dict(dataset_cfg, pipeline=[])
    dataset = DATASETS.build(dataset_cfg)
    captions: dict = {}
    for index in range(len(dataset)):
        item = dataset.get_data_info(index)
        if 'caption_ids' in item:
            pairs = zip(item['caption_ids'], item['captions'])
        elif 'caption_id' in item:
            pairs = [(item['caption_id'], item['caption'])]
        else:
            raise SystemExit(f'{type(dataset).__name__} item {index} has no caption_id: '
                             'the word cache needs a captions dataset')
        for caption_id, caption in pairs:
            known = captions.setdefault(str(caption_id), caption)
            if known != caption:
                raise SystemExit(f'{type(dataset).__name__}: caption id {caption_id} is used '
                                 f'for {known!r} and {caption!r}; the word cache needs unique '
                                 'caption ids')
    return list(captions.items())


def main(argv=None) -> dict:
    args = parse_args(argv)
    register_all_modules(init_default_scope=False)
    start = time.perf_counter()
    cfg = retarget_synthground(Config.fromfile(args.config), args.synthground_root)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmgrounding')):
        captions = dataset_captions(cfg)
        model = MODELS.build(cfg.model)
    model.init_weights()
    model.to(args.device).eval()
    device = torch.device(args.device)

    settings = word_cache_settings(
        model.text_encoder, model.tokenizer,
        pretrained=cfg.model.text_encoder.get('pretrained'),
        max_text_length=model.max_text_length, dtype=args.dtype,
        negatives_file=args.negatives)
    cache = WordFeatureCache.create(args.out, settings)
    stale = cache.remove_stale_temporaries()
    if stale:
        print(f'removed {len(stale)} unfinished entries of an interrupted run')
    negatives = read_negatives(args.negatives) if args.negatives else None
    todo = [(i, c) for i, c in captions if i not in cache]
    cached_before = len(captions) - len(todo)
    if args.limit is not None:
        todo = todo[:args.limit]
    print(f'{len(captions)} captions: {cached_before} already cached, {len(todo)} to do '
          f'-> {args.out}', flush=True)

    encode_start = time.perf_counter()
    done = words_with_negatives = substitutes = 0
    for first in range(0, len(todo), args.batch_size):
        batch = todo[first:first + args.batch_size]
        batch_negatives = None
        if negatives is not None:
            batch_negatives = []
            for caption_id, caption in batch:
                found = lookup_negatives(negatives, caption_id, caption, source=args.negatives)
                if found is None:
                    raise SystemExit(f'{args.negatives}: no negatives for caption {caption_id} '
                                     '(the generation may be incomplete: run '
                                     'tools/generate_negatives.py again)')
                batch_negatives.append(found)
        entries = model.caption_word_features([c for _, c in batch], batch_negatives,
                                              device=device, batch_size=args.batch_size)
        for (caption_id, caption), entry in zip(batch, entries):
            cache.write(caption_id, dict(entry, caption=caption))
            if negatives is not None:
                words_with_negatives += len(entry['negative_words'])
                substitutes += len(entry['negative_substitutes'])
        previous, done = done, done + len(batch)
        if done // args.save_every > previous // args.save_every:
            cache.update_meta(num_captions=len(cache))
            seconds = time.perf_counter() - encode_start
            print(f'{done}/{len(todo)} captions, {done / seconds:.1f} captions/s', flush=True)

    seconds = time.perf_counter() - encode_start
    cache.update_meta(num_captions=len(cache))
    summary = dict(captions=len(captions), written=done, cached=len(cache),
                   words_with_negatives=words_with_negatives, substitutes=substitutes,
                   seconds=round(seconds, 2),
                   captions_per_s=round(done / seconds, 1) if done else None)
    print(f'{done} captions cached in this run ({summary["captions_per_s"]} captions/s), '
          f'{len(cache)} in {args.out}; {words_with_negatives} words with '
          f'{substitutes} substitutes in this run; {args.dtype} '
          f'({time.perf_counter() - start:.1f}s in all)')
    return summary


if __name__ == '__main__':
    main()
