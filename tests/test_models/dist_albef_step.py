"""One ALBEF+AMC training step, in 1 process or as one rank of a gloo group (run by
tests/test_models/test_albef_dist.py). Saves the parameters after the step."""
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
from tests.test_models.albef_tiny import WORDS, tiny_albef_cfg  # noqa: E402


def global_batch(size=8):
    gen = torch.Generator().manual_seed(1)
    images = torch.randn(size, 3, 32, 32, generator=gen)
    samples = []
    for i in range(size):
        # texts of different lengths: each process pads to its own longest text
        num_words = 2 + 3 * (i // 4)  # rank 0: 2 words, rank 1: 5 words
        words = [WORDS[int(j)] for j in torch.randint(len(WORDS), (num_words, ), generator=gen)]
        sample = GroundingDataSample()
        sample.set_metainfo(dict(caption=' '.join(words), img_id=str(i // 2),
                                 img_shape=(32, 32)))
        x, y = torch.randint(0, 16, (2, ), generator=gen).tolist()
        sample.gt_instances = InstanceData(bboxes=torch.tensor([[x, y, x + 12., y + 12.]]),
                                           labels=torch.tensor([0]))
        samples.append(sample)
    return images, samples


def main(vocab: str, out: str) -> None:
    register_all_modules()
    distributed = 'WORLD_SIZE' in os.environ and int(os.environ['WORLD_SIZE']) > 1
    if distributed:
        dist.init_process_group('gloo')
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    torch.manual_seed(0)
    no_dropout = dict(vocab_size=64, hidden_size=32, num_attention_heads=2,
                      intermediate_size=64, max_position_embeddings=32, hidden_dropout_prob=0.0,
                      attention_probs_dropout_prob=0.0)
    cfg = tiny_albef_cfg(vocab, hard_negatives='hardest', loss_weights=dict(mlm=0.0))
    cfg['text_encoder']['config'] = no_dropout
    cfg['fusion']['config'] = no_dropout
    model = MODELS.build(cfg)
    images, samples = global_batch()
    per_rank = len(samples) // world
    images = images[rank * per_rank:(rank + 1) * per_rank]
    samples = samples[rank * per_rank:(rank + 1) * per_rank]
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(trainable, lr=0.1)
    net = MMDistributedDataParallel(module=model, device_ids=None) if distributed else model
    losses = net(images, samples, mode='loss')
    sum(losses.values()).backward()
    optimizer.step()
    if rank == 0:
        after = {k: v.detach().clone() for k, v in model.state_dict().items()}
        torch.save(dict(before=before, after=after), out)
    if distributed:
        finish_distributed()


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
