"""One ReIR training step, in 1 process or as one rank of a gloo group (run by
tests/test_models/test_reir_dist.py). Saves the losses and the state dict after the step.

The global batch holds 4 images; with 2 processes each takes 2. Image 1 of rank 0 and image 2
of rank 1 are the same image (two captions of it), so a positive pair of the ranking loss
spans the processes. Each process has the same number of phrases, phrase words, labelled
relations and self-taught regression pairs (the boxes come in near-duplicate pairs far from
each other, so every phrase's confident box has exactly one neighbour above τ): the losses
that are means over those are per-process means, and DDP's average of them is the global
mean only when the counts are equal.
"""

import os
import sys

import torch
import torch.distributed as dist
from mmengine.model import MMDistributedDataParallel
from mmengine.structures import InstanceData

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from mmgrounding.registry import MODELS  # noqa: E402
from mmgrounding.structures import GroundingDataSample  # noqa: E402
from mmgrounding.utils import finish_distributed, register_all_modules  # noqa: E402
from tests.test_models.reir_tiny import FEATURE_DIM, SHAPES, tiny_reir_cfg  # noqa: E402

WORDS = ['a', 'red', 'blue', 'green', 'circle', 'square', 'star', 'heart', 'above']
# (caption, phrase spans, image id): rank 0 takes the first two, rank 1 the last two
CAPTIONS = [
    ('a red circle above a blue square', [(0, 12), (19, 32)], 0),
    ('a star', [(0, 6)], 1),
    ('a green heart above a red star', [(0, 13), (20, 30)], 1),
    ('a circle', [(0, 8)], 2),
]
NUM_PAIRS = 3  # 6 proposals an image, K = 6


def write_vocabs(directory: str) -> tuple[str, str]:
    vocab = os.path.join(directory, 'vocab.txt')
    with open(vocab, 'w') as f:
        f.write('\n'.join(['[PAD]', '[UNK]'] + WORDS) + '\n')
    relations = os.path.join(directory, 'relations.txt')
    with open(relations, 'w') as f:
        f.write('above\t5\n')
    return vocab, relations


def proposals(img_id: int) -> InstanceData:
    gen = torch.Generator().manual_seed(10 + img_id)
    boxes = []
    for pair in range(NUM_PAIRS):  # pairs 40 px apart; the copy 1-2 px off (IoU > 0.8)
        corner = torch.tensor([5.0 + 40 * pair, 5.0 + 30 * pair]) + torch.rand(2, generator=gen)
        box = torch.cat([corner, corner + 25 + 5 * torch.rand(2, generator=gen)])
        boxes += [box, box + 1 + torch.rand(4, generator=gen)]
    return InstanceData(
        bboxes=torch.stack(boxes),
        feats=torch.randn(2 * NUM_PAIRS, FEATURE_DIM, generator=gen),
        labels=torch.randint(len(SHAPES), (2 * NUM_PAIRS,), generator=gen),
        scores=torch.rand(2 * NUM_PAIRS, generator=gen),
    )


def global_batch() -> list:
    samples = []
    for caption, spans, img_id in CAPTIONS:
        sample = GroundingDataSample()
        sample.set_metainfo(
            dict(
                img_id=img_id,
                caption=caption,
                phrases=[caption[s:e] for s, e in spans],
                phrase_spans=spans,
                ori_shape=(100, 140),
            )
        )
        sample.proposals = proposals(img_id)
        samples.append(sample)
    return samples


def model_cfg(vocab: str, relations: str, norm: str) -> dict:
    cfg = tiny_reir_cfg(
        vocab,
        relation_classifier=dict(type='RelationClassifier', hidden_dim=8),
        relation_loss=dict(type='RelationClassificationLoss'),
        relation_vocab_file=relations,
        # no score gap: the attention of an untrained model is nearly uniform
        regression_loss=dict(type='SelfTaughtRegressionLoss', score_gap=0.0),
        topk=2 * NUM_PAIRS,
    )
    cfg['region_embedder']['norm'] = norm
    return cfg


def main(vocab: str, relations: str, out: str, norm: str = 'SyncBN') -> None:
    register_all_modules()
    distributed = int(os.environ.get('WORLD_SIZE', '1')) > 1
    if distributed:
        dist.init_process_group('gloo')
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    torch.manual_seed(0)
    model = MODELS.build(model_cfg(vocab, relations, norm))
    samples = global_batch()
    per_rank = len(samples) // world
    samples = samples[rank * per_rank : (rank + 1) * per_rank]
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    net = MMDistributedDataParallel(module=model, device_ids=None) if distributed else model
    losses = net(None, samples, mode='loss')
    sum(losses.values()).backward()
    optimizer.step()
    values = torch.stack([losses[k].detach() for k in sorted(losses)])
    if distributed:
        parts = [torch.empty_like(values) for _ in range(world)]
        dist.all_gather(parts, values)
        values = torch.stack(parts)  # (world, losses)
    if rank == 0:
        torch.save(
            dict(
                before=before,
                after={k: v.detach().clone() for k, v in model.state_dict().items()},
                names=sorted(losses),
                losses=values.reshape(world, -1),
            ),
            out,
        )
    if distributed:
        finish_distributed()


if __name__ == '__main__':
    main(*sys.argv[1:])
