"""benchmarks/official_albef.py: the re-implemented official ALBEF/AMC step against ours.

Tiny sizes (ViT 2 blocks of width 32 on 32 px, BERT 6 layers of width 32 with fusion from
layer 3, so that the official code's "fusion layer + 2" is the last one), a few seconds.
"""

import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.structures import InstanceData

from mmgrounding.models.converters.albef import convert_albef_state_dict
from mmgrounding.registry import MODELS
from mmgrounding.structures import GroundingDataSample

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
WORDS = 'a the man woman dog cat red blue green shirt left right on in with ball'.split()
SIZE, WIDTH, FUSION = 32, 32, 3
CAPTIONS = ['a red dog on the left', 'the woman with a blue ball']  # equal lengths: no padding
BOXES = [[0, 4, 20, 30], [10, 0, 32, 16]]  # integer corners: both codes' masks agree


def _official():
    spec = importlib.util.spec_from_file_location(
        'official_albef', osp.join(ROOT, 'benchmarks', 'official_albef.py')
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def vocab(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp('vocab') / 'vocab.txt'
    path.write_text('\n'.join(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] + WORDS))
    return str(path)


def _build_ours(vocab: str, vocab_size: int):
    bert = dict(
        vocab_size=vocab_size, hidden_size=WIDTH, num_attention_heads=2, intermediate_size=64
    )
    return MODELS.build(
        dict(
            type='ALBEFGrounder',
            image_encoder=dict(
                type='VisionTransformer',
                img_size=SIZE,
                patch_size=16,
                embed_dim=WIDTH,
                depth=2,
                num_heads=2,
            ),
            text_encoder=dict(type='BertTextEncoder', config=bert, num_layers=FUSION),
            fusion=dict(type='ALBEFFusionEncoder', config=bert, num_layers=6 - FUSION),
            tokenizer=dict(vocab_file=vocab),
            # the official code's choices: min-max maps, L_mean pooled over the batch
            explainer=dict(
                type='GradCAMExplainer',
                target_layer='fusion.layers.2.crossattention.self',
                normalize='minmax',
            ),
            amc_loss=dict(type='AMCLoss', mean_pooling='batch'),
            embed_dim=16,
            queue_size=8,
            distill_alpha=0.0,
        )
    )


def _build_official(official, tokenizer, vocab_size: int):
    return official.ALBEF(
        tokenizer,
        config=dict(image_res=SIZE, embed_dim=16, queue_size=8, mask_size=SIZE),
        bert=dict(
            vocab_size=vocab_size,
            hidden_size=WIDTH,
            num_attention_heads=2,
            intermediate_size=64,
            num_hidden_layers=6,
            fusion_layer=FUSION,
            encoder_width=WIDTH,
        ),
        vit=dict(embed_dim=WIDTH, depth=2, num_heads=2),
    )


def _samples() -> list:
    samples = []
    for i, (caption, box) in enumerate(zip(CAPTIONS, BOXES)):
        sample = GroundingDataSample()
        sample.set_metainfo(dict(caption=caption, img_id=str(i), img_shape=(SIZE, SIZE)))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([box], dtype=torch.float32), labels=torch.tensor([0])
        )
        samples.append(sample)
    return samples


def test_official_losses_at_init_equal_ours(vocab):
    """With the official weights converted into ours (the checkpoint converter), in eval mode,
    α = 0 and the same MLM corruption, the two codes compute the same ITC, ITM, MLM and AMC:
    their definitions agree there (distinct images: one positive per row; batch 2: each row has
    one hard-negative candidate; equal-length captions: the official Grad-CAM's mean over all
    token rows is ours over the real ones)."""
    official = _official()
    torch.manual_seed(0)
    ours = _build_ours(vocab, vocab_size=len(WORDS) + 5)
    theirs = _build_official(official, ours.tokenizer, vocab_size=len(WORDS) + 5)
    converted, dropped = convert_albef_state_dict(theirs.state_dict(), text_layers=FUSION)
    missing, unexpected = ours.load_state_dict(converted, strict=False)
    assert unexpected == [] and sorted(missing) == ['idx_queue', 'queue_ptr'], (missing, unexpected)
    assert sorted({k.split('.')[0] for k in dropped}) == [
        'queue_ptr_img',
        'queue_ptr_txt',
        'text_encoder',
        'text_encoder_m',
    ]
    ours.eval()
    theirs.eval()
    images = torch.randn(2, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    text = ours.tokenize(CAPTIONS, torch.device('cpu'))
    assert bool(text['attention_mask'].all())
    for seed in range(100):  # a corruption that masks at least one token
        torch.manual_seed(seed)
        ids, labels = ours.mask_tokens(text['input_ids'])
        if bool((labels != -100).any()):
            break
    torch.manual_seed(seed)  # ours draws the same corruption first in its step
    mine = {k: float(v) for k, v in ours.loss(images, _samples()).items()}
    loss_mlm, loss_ita, loss_itm, cam_mean, cam_max = theirs(
        images,
        text,
        alpha=0.0,
        mask_query_interp=official.box_masks(BOXES, SIZE),
        gt_mask_indicator=torch.ones(2, 1, dtype=torch.long),
        mlm_inputs=(ids, labels),
    )
    assert mine['loss_itc'] == pytest.approx(float(loss_ita), rel=1e-5)
    assert mine['loss_itm'] == pytest.approx(float(loss_itm), rel=1e-5)
    assert mine['loss_mlm'] == pytest.approx(float(loss_mlm), rel=1e-5)
    assert mine['loss_amc'] == pytest.approx(float(0.2 * cam_mean + 0.8 * cam_max), rel=1e-4)
    # both enqueued the teacher's features of the batch at slots 0-1
    assert torch.allclose(ours.image_queue[:, :2], theirs.image_queue[:, :2], atol=1e-6)
    assert int(theirs.queue_ptr_img) == int(theirs.queue_ptr_txt) == 2


def test_official_step_trains_on_a_fixed_batch(vocab):
    """Train mode (dropout, α = 0.4, sampled negatives, AMC's queue wrap-around): every loss
    stays finite, the ITC and AMC losses fall over 8 AdamW steps on one batch, and the
    pointers wrap (8 steps of 2 in a queue of 8)."""
    official = _official()
    torch.manual_seed(0)
    from transformers import BertTokenizerFast

    tokenizer = BertTokenizerFast(vocab_file=vocab)
    model = _build_official(official, tokenizer, vocab_size=len(WORDS) + 5)
    optimizer = official.create_optimizer(model, lr=1e-3)
    images = torch.randn(2, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    tokens = tokenizer(
        CAPTIONS, padding='longest', truncation=True, max_length=25, return_tensors='pt'
    )
    text = dict(input_ids=tokens['input_ids'], attention_mask=tokens['attention_mask'])
    history = [
        official.train_step(
            model,
            optimizer,
            images,
            text,
            alpha=0.4,
            mask_query_interp=official.box_masks(BOXES, SIZE),
            gt_mask_indicator=torch.ones(2, 1, dtype=torch.long),
        )
        for _ in range(8)
    ]
    assert all(torch.isfinite(torch.tensor(list(h.values()))).all() for h in history)
    assert set(history[0]) == {'loss_mlm', 'loss_ita', 'loss_itm', 'loss_cam1', 'loss_cam2'}
    assert history[-1]['loss_ita'] < 0.5 * history[0]['loss_ita']
    amc = [0.2 * h['loss_cam1'] + 0.8 * h['loss_cam2'] for h in history]
    assert min(amc[-2:]) < amc[0]
    assert int(model.queue_ptr_img) == int(model.queue_ptr_txt) == 0
    # the momentum teacher moved towards the student, and only by (1 - 0.995) per step
    student = model.visual_encoder.patch_embed.proj.weight
    teacher = model.visual_encoder_m.patch_embed.proj.weight
    assert not torch.equal(student, teacher) and not teacher.requires_grad
