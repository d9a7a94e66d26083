"""Train a small BERT masked LM on SynthGround's captions: InfoGround's stand-in for BERT.

    python tools/train_text_mlm.py --data-root data/synthground/ \
        --out data/synthground/infoground/mlm [--vocab data/synthground/vocab.txt] \
        [--steps 2000] [--batch-size 32] [--hidden-size 128] [--layers 2] [--heads 2] \
        [--lr 1e-3] [--seed 0]

On real data InfoGround's negatives come from bert-base-uncased and its word features from
the same frozen BERT. SynthGround's small vocabulary of shapes, colours and relations is not
English enough for it, so this tool trains a transformers ``BertForMaskedLM`` with
SynthGround's WordPiece vocabulary (``mmgrounding/datasets/synthground/vocab.py``) on the
training captions (``coco/annotations/captions_train.json``; never val or test) and saves
model and tokenizer with ``save_pretrained``, so that ``tools/generate_negatives.py`` and
``AutoModelForMaskedLM`` load it like any Hugging Face checkpoint. Masking is BERT's (15% of
the tokens; 80% [MASK], 10% random, 10% kept, ``DataCollatorForLanguageModeling``). The
defaults train in about two minutes on one CPU thread. The output folder is replaced
atomically at the end and holds ``train_log.json`` (arguments, losses, held-out accuracy).
"""
import argparse
import json
import os
import os.path as osp
import random
import shutil
import tempfile
import time
from typing import List, Sequence

import torch
from transformers import (
    BertConfig,
    BertForMaskedLM,
    BertTokenizerFast,
    DataCollatorForLanguageModeling,
)

from mmgrounding.datasets.synthground.vocab import train_vocab

TRAIN_CAPTIONS = 'coco/annotations/captions_train.json'
VAL_CAPTIONS = 'coco/annotations/captions_val.json'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data-root', required=True, help='a SynthGround build')
    parser.add_argument('--out', required=True, help='folder for save_pretrained')
    parser.add_argument('--vocab', help='WordPiece vocab.txt (default: <data-root>/vocab.txt, '
                        'trained on the training captions when missing)')
    parser.add_argument('--captions', default=TRAIN_CAPTIONS,
                        help='COCO-format captions to train on, relative to --data-root')
    parser.add_argument('--val-captions', default=VAL_CAPTIONS,
                        help='held-out captions for the final accuracy ("" to skip)')
    parser.add_argument('--steps', type=int, default=2000)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--hidden-size', type=int, default=128)
    parser.add_argument('--layers', type=int, default=2)
    parser.add_argument('--heads', type=int, default=2)
    parser.add_argument('--max-length', type=int, default=48)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--warmup', type=int, default=100, help='linear warm-up steps')
    parser.add_argument('--mlm-probability', type=float, default=0.15)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--log-every', type=int, default=100)
    return parser.parse_args(argv)


def read_captions(path: str) -> List[str]:
    """The captions of a COCO-format captions file, by annotation id."""
    with open(path, encoding='utf-8') as f:
        annotations = json.load(f)['annotations']
    return [a['caption'] for a in sorted(annotations, key=lambda a: a['id'])]


def masked_batches(tokenizer, texts: Sequence[str], *, batch_size: int, max_length: int,
                   collator: DataCollatorForLanguageModeling):
    """BERT-masked batches of ``texts`` in order (masking draws from torch's global RNG)."""
    for start in range(0, len(texts), batch_size):
        encoded = tokenizer(list(texts[start:start + batch_size]), truncation=True,
                            max_length=max_length)
        rows = [dict(input_ids=ids) for ids in encoded['input_ids']]
        yield collator(rows)


@torch.no_grad()
def masked_accuracy(model, tokenizer, texts, *, max_length, collator, seed) -> dict:
    """Loss and top-1 accuracy at the masked tokens of ``texts`` (fixed masking seed)."""
    model.eval()
    torch.manual_seed(seed)
    total_loss, correct, count = 0.0, 0, 0
    for batch in masked_batches(tokenizer, texts, batch_size=64, max_length=max_length,
                                collator=collator):
        out = model(**batch)
        targets = batch['labels'] != -100
        n = int(targets.sum())
        total_loss += float(out.loss) * n
        correct += int((out.logits.argmax(-1)[targets] == batch['labels'][targets]).sum())
        count += n
    model.train()
    return dict(loss=total_loss / max(count, 1), accuracy=correct / max(count, 1),
                masked_tokens=count)


def save_atomically(model, tokenizer, out: str, log: dict) -> None:
    """Write into a temporary folder next to ``out``, then swap it in."""
    parent = osp.dirname(osp.abspath(out))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix='.tmp-' + osp.basename(out) + '.')
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        with open(osp.join(tmp, 'train_log.json'), 'w', encoding='utf-8') as f:
            json.dump(log, f, indent=1)
        old = None
        if osp.exists(out):
            old = tempfile.mkdtemp(dir=parent, prefix='.tmp-old-')
            os.replace(out, osp.join(old, 'previous'))
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def main(argv=None) -> None:
    args = parse_args(argv)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    texts = read_captions(osp.join(args.data_root, args.captions))
    vocab = args.vocab or osp.join(args.data_root, 'vocab.txt')
    if osp.isfile(vocab):
        tokenizer = BertTokenizerFast(vocab=vocab)
    elif args.vocab is not None:
        raise FileNotFoundError(f'--vocab {vocab} does not exist')
    else:  # the tokenizer keeps it; save_pretrained writes it into --out
        with tempfile.TemporaryDirectory() as tmp:
            size = train_vocab(texts, osp.join(tmp, 'vocab.txt'))
            tokenizer = BertTokenizerFast(vocab=osp.join(tmp, 'vocab.txt'))
        vocab = f'trained on {len(texts)} captions ({size} tokens)'
        print(f'no {osp.join(args.data_root, "vocab.txt")}: WordPiece vocabulary {vocab}')
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=args.hidden_size,
                        num_hidden_layers=args.layers, num_attention_heads=args.heads,
                        intermediate_size=4 * args.hidden_size,
                        max_position_embeddings=max(64, args.max_length),
                        pad_token_id=tokenizer.pad_token_id)
    model = BertForMaskedLM(config)
    model.train()
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=args.mlm_probability)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / max(args.warmup, 1)) *
        max(0.0, 1 - step / args.steps))
    print(f'{len(texts)} training captions, {tokenizer.vocab_size} tokens, '
          f'{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters')

    order = list(range(len(texts)))
    losses, step, start = [], 0, time.time()
    while step < args.steps:
        random.shuffle(order)
        shuffled = [texts[i] for i in order]
        for batch in masked_batches(tokenizer, shuffled, batch_size=args.batch_size,
                                    max_length=args.max_length, collator=collator):
            loss = model(**batch).loss
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            step += 1
            if step % args.log_every == 0 or step == args.steps:
                recent = losses[-args.log_every:]
                print(f'step {step}/{args.steps}  mlm loss {sum(recent) / len(recent):.3f}  '
                      f'{time.time() - start:.0f}s', flush=True)
            if step == args.steps:
                break

    log = dict(args=vars(args), vocab=vocab, steps=step,
               seconds=round(time.time() - start, 1), train_captions=len(texts),
               final_loss=sum(losses[-50:]) / max(len(losses[-50:]), 1))
    val_path = osp.join(args.data_root, args.val_captions) if args.val_captions else ''
    if val_path and osp.isfile(val_path):
        log['val'] = masked_accuracy(model, tokenizer, read_captions(val_path)[:1000],
                                     max_length=args.max_length, collator=collator,
                                     seed=args.seed)
        print('held-out masked tokens: loss {loss:.3f}, top-1 accuracy {accuracy:.3f} '
              '({masked_tokens} tokens)'.format(**log['val']))
    save_atomically(model, tokenizer, args.out, log)
    print(f'saved to {args.out}')


if __name__ == '__main__':
    main()
