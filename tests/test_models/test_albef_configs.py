"""The SynthGround demo configs of AMC and gALBEF build, and differ only by the AMC loss."""
import os.path as osp

import torch
from mmengine.config import Config

from mmgrounding.registry import DATASETS, MODELS

from .albef_tiny import write_vocab

CONFIGS = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')
AMC = osp.join(CONFIGS, 'amc', 'amc_albef-tiny_1xb32-900it_synthground-mix.py')
GALBEF = osp.join(CONFIGS, 'amc', 'galbef_albef-tiny_1xb32-900it_synthground-mix.py')


def test_demo_configs_differ_only_by_the_amc_loss():
    amc, galbef = Config.fromfile(AMC), Config.fromfile(GALBEF)
    assert amc.model.amc_loss == dict(type='AMCLoss') and galbef.model.amc_loss is None
    galbef.model.amc_loss = amc.model.amc_loss
    assert galbef.to_dict() == amc.to_dict()


def test_demo_model_builds_with_its_from_scratch_fusion_init(tmp_path):
    cfg = Config.fromfile(AMC)
    cfg.model.tokenizer = dict(vocab_file=write_vocab(tmp_path / 'vocab.txt'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert model.image_encoder.patch_grid((64, 64)) == (8, 8)
    # the fusion layers start with std 0.1 (the config's initializer_range), not BERT's 0.02
    query = model.fusion.layers[0].crossattention.self.query.weight
    assert 0.08 < float(query.std()) < 0.12
    assert float(model.text_encoder.bert.encoder.layer[0].attention.self.query.weight.std()) < 0.03


def test_paper_scale_configs_follow_the_paper(synthground_root):
    amc = Config.fromfile(osp.join(CONFIGS, 'amc', 'albef_vg.py'))
    galbef = Config.fromfile(osp.join(CONFIGS, 'amc', 'galbef_vg.py'))
    assert amc.model.amc_loss.type == 'AMCLoss' and galbef.model.amc_loss is None
    # the official code's map normalisation and batch-pooled L_mean (issue 13, item 6)
    assert amc.model.amc_loss.mean_pooling == 'batch'
    assert amc.model.explainer.normalize == 'minmax'
    # the official ALBEF code's details (issue 13, item 10)
    assert amc.model.fusion.attention_dropout and amc.model.distill_alpha_ramp == 'epoch'
    assert amc.model.max_text_length_test == 25
    # batch 512 on 8 GPUs, AdamW lr 1e-5 (weight decay 0.02, the official code's; its
    # paramwise rule: tests/test_configs_paper.py), 20 epochs, VG boxes and regions, 256 px
    assert amc.train_dataloader.batch_size * 8 == 512
    assert amc.optim_wrapper.optimizer == dict(type='AdamW', lr=1e-5, weight_decay=0.02, fused=True)
    assert amc.train_cfg.max_epochs == 20
    assert tuple(amc.train_dataloader.dataset.sources) == ('objects', 'regions')
    assert amc.model.image_encoder.img_size == 256 and amc.model.image_encoder.patch_size == 16
    assert amc.model.explainer.target_layer == 'fusion.layers.2.crossattention.self'
    transforms = [t['type'] for t in amc.train_pipeline]
    assert {'RandomFlipWithText', 'GroundingColorJitter', 'RandomGrayscale'} <= set(transforms)
    # the training pipeline runs on VG-format triplets (SynthGround's) and keeps the box
    dataset = DATASETS.build(dict(amc.train_dataloader.dataset, data_root=synthground_root,
                                  ann_file='vg', min_box_area_frac=0.0))
    item = dataset[0]
    assert item['inputs'].shape == (3, 256, 256)
    assert len(item['data_samples'].gt_instances.bboxes) == 1
