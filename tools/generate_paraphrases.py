"""Write SelfEQ's paraphrases of every training text to a JSON cache.

    python tools/generate_paraphrases.py --config configs/selfeq/CONFIG.py \
        --out data/synthground/selfeq/paraphrases_wordnet.json \
        [--lm LM_FOLDER [--prompt TEXT] [--num 3] [--seed 0]] \
        [--max-paraphrases 5] [--no-hypernyms] [--in-vocabulary] \
        [--texts FILE] [--limit N] [--save-every 500]

The texts are the ``caption`` of every item of the config's training dataset (a
``ConcatDataset`` lists its parts; ``--cfg-options data_root=...`` style overrides through
``--data-root``), or the lines of ``--texts``. Default source: WordNet
(``mmgrounding.text.paraphrase.wordnet_paraphrases``: synonyms and hypernyms of the head noun,
synonyms of the adjectives; ``--in-vocabulary`` keeps only substitutes whose words occur in
the training texts). ``--lm`` samples ``--num`` rewordings per text from any local causal or
sequence-to-sequence language model folder through transformers (the paper used Vicuna-13B).

The cache (format in ``mmgrounding.text.paraphrase.read_paraphrases``) is written atomically
every ``--save-every`` texts and at the end. Running the command again resumes: texts already
in the file are skipped, and the settings (source, LM weights hash, prompt, sizes, seed) must
equal the file's, otherwise it stops and lists the differences. ``--limit`` processes at most
N new texts in this run. Texts left without a paraphrase are counted; they train without the
paraphrase branch.
"""

import argparse
import glob
import json
import os.path as osp
import time

from mmgrounding.text.paraphrase import (
    DEFAULT_PROMPT,
    PARAPHRASES_FORMAT,
    lm_paraphrases,
    normalize_text,
    wordnet_paraphrases,
)
from mmgrounding.utils.atomic import atomic_write_json
from mmgrounding.utils.hashing import files_sha256


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--config', help="a training config: its train dataset's captions")
    source.add_argument('--texts', help='a text file, one text per line')
    parser.add_argument('--data-root', help='override the data_root of the train dataset(s)')
    parser.add_argument('--out', required=True, help='the cache (JSON)')
    parser.add_argument('--lm', help='a local causal or seq2seq LM folder (default: WordNet)')
    parser.add_argument('--prompt', default=DEFAULT_PROMPT, help='LM prompt with {phrase}')
    parser.add_argument('--num', type=int, default=3, help='LM samples per text')
    parser.add_argument('--seed', type=int, default=0, help='LM sampling seed')
    parser.add_argument('--max-paraphrases', type=int, default=5, help='WordNet: per text')
    parser.add_argument(
        '--no-hypernyms',
        action='store_true',
        help='WordNet: synonyms only, no hypernyms of the head noun',
    )
    parser.add_argument(
        '--in-vocabulary',
        action='store_true',
        help='WordNet: only substitutes whose words occur in the texts',
    )
    parser.add_argument('--limit', type=int, help='at most this many new texts')
    parser.add_argument('--save-every', type=int, default=500)
    return parser.parse_args(argv)


def config_texts(config: str, data_root: str | None = None) -> list[str]:
    """The ``caption`` of every item of ``config``'s training dataset, first occurrence order."""
    from mmengine.config import Config

    from mmgrounding.registry import DATASETS
    from mmgrounding.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(config)
    dataset_cfg = cfg.train_dataloader.dataset
    parts = dataset_cfg.get('datasets', [dataset_cfg])
    texts: dict[str, None] = {}
    for part in parts:
        part = dict(part, pipeline=[])
        if data_root is not None:
            part['data_root'] = data_root
        dataset = DATASETS.build(part)
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            for text in info.get('captions') or [info.get('caption')]:
                if text:
                    texts.setdefault(normalize_text(text), None)
    return list(texts)


def file_texts(path: str) -> list[str]:
    with open(path, encoding='utf-8') as f:
        return list(dict.fromkeys(normalize_text(line) for line in f if line.strip()))


def load_or_start(out: str, settings: dict) -> dict:
    """The cache in ``out`` when its settings match, else a new empty one."""
    if not osp.isfile(out):
        return dict(format=PARAPHRASES_FORMAT, settings=settings, paraphrases={})
    with open(out, encoding='utf-8') as f:
        cache = json.load(f)
    if cache.get('format') != PARAPHRASES_FORMAT:
        raise SystemExit(f'{out} is not a paraphrase cache; remove it or choose another --out')
    stored = cache['settings']
    # the LM folder's name is for people; its weights hash decides (a renamed copy resumes)
    differences = [
        f'  {k}: file {stored.get(k)!r}, now {v!r}'
        for k, v in settings.items()
        if stored.get(k) != v and k != 'lm'
    ]
    if differences:
        raise SystemExit(
            f'{out} was written with other settings; remove it or choose '
            'another --out:\n' + '\n'.join(differences)
        )
    return cache


def count(cache: dict) -> dict:
    lists = list(cache['paraphrases'].values())
    return dict(
        texts=len(lists),
        texts_without_paraphrase=sum(not p for p in lists),
        paraphrases=sum(len(p) for p in lists),
    )


def main(argv=None) -> dict:
    args = parse_args(argv)
    start = time.time()
    texts = config_texts(args.config, args.data_root) if args.config else file_texts(args.texts)
    vocabulary = None
    if args.in_vocabulary:
        vocabulary = {w for t in texts for w in t.split()}
    model = tokenizer = None
    if args.lm:
        from transformers import (
            AutoConfig,
            AutoModelForCausalLM,
            AutoModelForSeq2SeqLM,
            AutoTokenizer,
        )

        tokenizer = AutoTokenizer.from_pretrained(args.lm)
        seq2seq = AutoConfig.from_pretrained(args.lm).is_encoder_decoder
        model_cls = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
        model = model_cls.from_pretrained(args.lm).eval()
        weights = sorted(
            glob.glob(osp.join(args.lm, '*.safetensors')) + glob.glob(osp.join(args.lm, '*.bin'))
        )
        settings = dict(
            source='lm',
            lm=osp.basename(osp.normpath(args.lm)),
            lm_sha256=files_sha256(weights),
            prompt=args.prompt,
            num=args.num,
            seed=args.seed,
        )
    else:
        settings = dict(
            source='wordnet',
            max_paraphrases=args.max_paraphrases,
            hypernyms=not args.no_hypernyms,
            in_vocabulary=args.in_vocabulary,
        )
    cache = load_or_start(args.out, settings)
    done_before = len(cache['paraphrases'])
    todo = [t for t in texts if t not in cache['paraphrases']]
    if args.limit is not None:
        todo = todo[: args.limit]
    print(f'{len(texts)} texts: {done_before} already in {args.out}, {len(todo)} to do')
    for n, text in enumerate(todo, 1):
        if model is not None:
            paraphrases = lm_paraphrases(
                model, tokenizer, text, num=args.num, seed=args.seed, prompt=args.prompt
            )
        else:
            paraphrases = wordnet_paraphrases(
                text,
                max_paraphrases=args.max_paraphrases,
                hypernyms=not args.no_hypernyms,
                vocabulary=vocabulary,
            )
        cache['paraphrases'][text] = paraphrases
        if n % args.save_every == 0:
            cache['counts'] = count(cache)
            atomic_write_json(args.out, cache)
            print(f'{n}/{len(todo)} texts, {time.time() - start:.0f}s', flush=True)
    cache['counts'] = count(cache)
    atomic_write_json(args.out, cache)
    counts = cache['counts']
    print(
        f'{len(todo)} texts done in this run, {counts["texts"]} in the cache, '
        f'{counts["texts_without_paraphrase"]} without a paraphrase, '
        f'{counts["paraphrases"]} paraphrases ({time.time() - start:.1f}s) -> {args.out}'
    )
    return counts


if __name__ == '__main__':
    main()
