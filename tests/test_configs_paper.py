"""Every paper-scale config holds its paper's hyperparameters (issue 13).

Each value below is the paper's (or, where the paper is silent and its number comes from the
official code, that code's; the method pages' "Differences from the paper" tables say which).
The configs are loaded, not built: the data and weights are not on this machine.
"""

import os.path as osp

import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load(path):
    return Config.fromfile(osp.join(ROOT, 'configs', path))


def of_type(items, name):
    found = [t for t in items if t['type'] == name]
    assert len(found) == 1, f'{name}: {found}'
    return found[0]


# ------------------------------------------------------------------------------- InfoGround
INFOGROUND = [
    'infoground/infoground_bert-base_1xb50-10e_coco-flickr30k.py',
    'infoground/infoground_bert-base_1xb50-10e_flickr30k.py',
    'infoground/infoground_bert-base-coco-mlm_1xb50-10e_coco-flickr30k.py',
    'infoground/infoground_bert-base-kv-linear_1xb50-10e_coco-flickr30k.py',
    'infoground/infoground_bert-base-kv-2-hidden_1xb50-10e_coco-flickr30k.py',
]


@pytest.mark.parametrize('path', INFOGROUND)
def test_infoground_paper_configs(path):
    cfg = load(path)
    model = cfg.model
    # Sec. 4: frozen bert-base (12 layers, 768-d), 2048-d bottom-up regions, d = 384
    assert model.text_encoder.num_layers == 12
    assert model.attention.region_dim == 2048 and model.attention.word_dim == 768
    assert model.attention.embed_dim == 384
    # batch 50, Adam, lr 1e-5
    assert cfg.train_dataloader.batch_size == 50
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-5)
    # 30 proposals for training and testing
    for pipeline in (cfg.train_dataloader.dataset.pipeline, cfg.test_dataloader.dataset.pipeline):
        assert of_type(pipeline, 'LoadRegionFeatures')['topk'] == 30
    # the paper / official protocol
    assert model.lang_words == 'one_per_caption'
    assert model.substitute_projection == 'separate'
    assert model.image_loss.reduction == 'caption_mean'
    assert model.image_loss.get('temperature', 1.0) == 1.0
    assert model.language_loss.type == 'InfoGroundLanguageLoss'
    assert of_type(cfg.test_evaluator, 'PointingGameMetric')['protocol'] == 'infoground'
    recall = of_type(cfg.test_evaluator, 'BoxRecallMetric')
    assert tuple(recall['topk']) == (1, 5, 10) and not recall.get('strict_iou', False)
    assert recall.get('iou_thr', 0.5) == 0.5
    assert recall['iou'] == 'pixel_inclusive'  # InfoGround's compute_iou
    assert cfg.test_dataloader.dataset.type == 'Flickr30kEntitiesDataset'
    assert cfg.test_dataloader.dataset.ann_file == 'flickr30k_entities/test.txt'
    # the official schedule (exp/ground/run/train.py): 10 epochs, the checkpoint of best
    # Flickr30k val pointing accuracy (eval_flickr_phrase_loc_model_selection.py)
    assert cfg.train_cfg.max_epochs == 10
    assert cfg.default_hooks.checkpoint.save_best == 'pointing/accuracy'
    assert cfg.val_dataloader.dataset.ann_file == 'flickr30k_entities/val.txt'
    assert of_type(cfg.val_evaluator, 'PointingGameMetric')['protocol'] == 'infoground'
    # Fig. 4: one hidden layer by default, 0 and 2 in the depth ablation
    expected = {'kv-linear': 0, 'kv-2-hidden': 2}
    depth = next((v for k, v in expected.items() if k in path), 1)
    assert model.attention.get('num_hidden', 1) == depth


def test_infoground_table1_rows():
    flickr = load('infoground/infoground_bert-base_1xb50-10e_flickr30k.py')
    assert flickr.train_dataloader.dataset.type == 'Flickr30kEntitiesDataset'
    assert flickr.train_dataloader.dataset.ann_file == 'flickr30k_entities/train.txt'
    assert flickr.train_dataloader.dataset.caption_ids == 'global'
    coco = load('infoground/infoground_bert-base_1xb50-10e_coco-flickr30k.py')
    assert coco.train_dataloader.dataset.type == 'CocoCaptionsDataset'
    assert coco.train_dataloader.dataset.ann_file == 'annotations/captions_train2014.json'
    tuned = load('infoground/infoground_bert-base-coco-mlm_1xb50-10e_coco-flickr30k.py')
    assert tuned.model.text_encoder.pretrained != coco.model.text_encoder.pretrained
    assert tuned.model.tokenizer.name_or_path == tuned.model.text_encoder.pretrained


# --------------------------------------------------------------------------------------- CKD
CKD = [
    'ckd/ckd-nce-distill_lstm_1xb32-10e_flickr30k.py',
    'ckd/ckd-nce-distill_lstm_1xb32-10e_referit.py',
]


@pytest.mark.parametrize('path', CKD)
def test_ckd_paper_configs(path):
    cfg = load(path)
    model = cfg.model
    # batch 32, Adam 1e-4, τ = 0.5 for both losses
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-4)
    assert model.image_sentence_loss == dict(type='ImageSentenceNCELoss', temperature=0.5)
    assert model.region_phrase_loss.temperature == 0.5
    # the official target: the 8 regions of highest IoU with the top region
    assert model.region_phrase_loss.target_regions == 'top_iou'
    assert model.region_phrase_loss.num_target_regions == 8
    # 300-d frozen GloVe embeddings, a 2-layer LSTM of 300, 512-d branches
    encoder = model.phrase_encoder
    assert encoder.embed_dim == 300 and encoder.hidden_dim == 300 and encoder.num_layers == 2
    assert encoder.glove_file and encoder.freeze_embeddings is True
    # the 13k Flickr30k words, shared with ReferIt
    assert encoder.vocab_file == 'data/flickr30k/ckd/phrase_vocab.txt'
    assert model.region_branch.in_dim == 2048
    assert model.region_branch.out_dim == 512 and model.phrase_branch.out_dim == 512
    # λ = min(⌊iter / 200⌋, 1) with Visual Genome features
    hook = of_type(cfg.custom_hooks, 'LossWeightStaircaseHook')
    assert hook['step_size'] == 200 and hook['max_weight'] == 1
    # 30 proposals; a separate teacher cache matched by IoU
    train = cfg.train_dataloader.dataset.pipeline
    assert of_type(train, 'LoadRegionFeatures')['topk'] == 30
    teacher = of_type(train, 'LoadTeacherClassProbs')
    assert teacher['cache_dir'] == model.teacher_cache_dir != model.cache_dir
    assert [t['type'] for t in train].index('LoadTeacherClassProbs') > [
        t['type'] for t in train
    ].index('LoadRegionFeatures')
    assert of_type(cfg.test_dataloader.dataset.pipeline, 'LoadRegionFeatures')['topk'] == 30
    # box accuracy at IoU > 0.5
    recall = of_type(cfg.test_evaluator, 'BoxRecallMetric')
    assert recall['strict_iou'] is True and recall.get('iou_thr', 0.5) == 0.5
    # no pointing number in the paper: a named protocol (InfoGround's), not the grid default
    assert of_type(cfg.test_evaluator, 'PointingGameMetric')['protocol'] == 'infoground'


# --------------------------------------------------------------------------------------- AMC
AMC_TRAINING = {
    'amc/albef_vg.py': dict(sources=('objects', 'regions'), variant='mean_max'),
    'amc/amc_albef-base_8xb64-20e_vg-objects.py': dict(sources=('objects',)),
    'amc/amc_albef-base_8xb64-20e_vg-regions.py': dict(sources=('regions',)),
    'amc/amc_albef-base_8xb64-20e_vg-lmean.py': dict(variant='mean'),
    'amc/amc_albef-base_8xb64-20e_vg-lmax.py': dict(variant='max'),
    'amc/amc_albef-base_8xb64-20e_vg-cosine.py': dict(variant='cosine'),
    'amc/amc-star_albef-base_8xb64-20e_vg-objects-anderson.py': dict(sources=('objects',)),
    # gALBEF (Table 1): the official weights tested as they are, or fine-tuned without AMC
    'amc/galbef_vg.py': dict(amc=False),
}


@pytest.mark.parametrize('path', sorted(AMC_TRAINING))
def test_amc_paper_configs(path):
    cfg = load(path)
    expected = AMC_TRAINING[path]
    # Sec. 4: ALBEF-base, 20 epochs, lr 1e-5, batch 512 (8 x 64), 256 px, boxes >= 8%
    assert cfg.train_cfg.max_epochs == 20
    # the official optimiser: AdamW, lr 1e-5, weight decay 0.02 except on 1-d parameters and
    # biases (test_amc_paper_optimizer_decays_as_timm)
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=1e-5, weight_decay=0.02, fused=True)
    assert cfg.optim_wrapper.paramwise_cfg == dict(
        norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0, bypass_duplicate=True
    )
    # the official training and evaluation tokenise to 25 tokens
    assert cfg.model.max_text_length == 25 and cfg.model.max_text_length_test == 25
    assert cfg.train_dataloader.batch_size * 8 == 512 == cfg.auto_scale_lr.base_batch_size
    assert of_type(cfg.train_dataloader.dataset.pipeline, 'Resize')['scale'] == (256, 256)
    # the official photometric augmentation: colour jitter 0.4 (hue too) at p 0.5, gray 0.2
    jitter = of_type(cfg.train_dataloader.dataset.pipeline, 'GroundingColorJitter')
    assert {k: jitter[k] for k in ('brightness', 'contrast', 'saturation', 'hue', 'prob')} == dict(
        brightness=0.4, contrast=0.4, saturation=0.4, hue=0.4, prob=0.5
    )
    assert of_type(cfg.train_dataloader.dataset.pipeline, 'RandomGrayscale')['prob'] == 0.2
    dataset = cfg.train_dataloader.dataset
    assert dataset.type == 'VisualGenomeTripletDataset'
    assert dataset.min_box_area_frac == 0.08
    assert tuple(dataset.sources) == expected.get('sources', ('objects', 'regions'))
    # Eq. 7-9: margins 0.1 / 0.5, weights 0.2 / 0.8 (Table 6 rows change only the variant)
    loss = cfg.model.amc_loss
    if not expected.get('amc', True):
        assert loss is None
    else:
        assert loss.get('variant', 'mean_max') == expected.get('variant', 'mean_max')
        assert loss.get('margin_mean', 0.1) == 0.1 and loss.get('margin_max', 0.5) == 0.5
        assert loss.get('weight_mean', 0.2) == 0.2 and loss.get('weight_max', 0.8) == 0.8
        assert loss.mean_pooling == 'batch'  # the official code's L_mean
    # the official code's Grad-CAM normalisation and ALBEF details
    assert cfg.model.explainer.normalize == 'minmax'
    assert cfg.model.fusion.attention_dropout is True
    assert cfg.model.distill_alpha_ramp == 'epoch'
    # Grad-CAM on the 3rd fusion cross-attention (block 8 of 12)
    assert cfg.model.explainer.target_layer == 'fusion.layers.2.crossattention.self'
    # Flickr30k Entities evaluated at 256 px (16 x 16 grid)
    assert of_type(cfg.test_dataloader.dataset.pipeline, 'Resize')['scale'] == (256, 256)
    # the official pointing rule (bicubic upsampling, strict borders)
    assert of_type(cfg.test_evaluator, 'PointingGameMetric')['protocol'] == 'amc_official'
    if 'anderson' in path:
        assert dataset.image_ids_file
    # evaluation images of the benchmarks are kept out of training (on by default)
    assert dataset.get('exclude_eval_images', 'default') is not None


def test_amc_paper_optimizer_decays_as_timm(tmp_path):
    """albef_vg.py's optim_wrapper, built over a tiny ALBEF, decays exactly the parameters
    timm's ``add_weight_decay`` (ALBEF's ``create_optimizer``) decays: not the 1-d ones, not
    the ``*.bias`` ones; everything else, the 0-d temperature included, at 0.02."""
    from mmengine.optim import build_optim_wrapper

    from mmgrounding.registry import MODELS
    from mmgrounding.utils import register_all_modules
    from tests.test_models.albef_tiny import tiny_albef_cfg, write_vocab

    register_all_modules()
    model = MODELS.build(tiny_albef_cfg(write_vocab(tmp_path / 'vocab.txt')))
    cfg = load('amc/albef_vg.py')
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert type(wrapper.optimizer).__name__ == 'AdamW'
    decay_of = {}
    for group in wrapper.optimizer.param_groups:
        for param in group['params']:
            decay_of[id(param)] = group['weight_decay']
    expected = {
        name: 0.0 if param.ndim == 1 or name.endswith('.bias') else 0.02
        for name, param in model.named_parameters()
        if param.requires_grad
    }
    got = {
        name: decay_of[id(param)] for name, param in model.named_parameters() if name in expected
    }
    assert got == expected
    # both kinds are there: the rule is exercised, not vacuous
    assert {0.0, 0.02} == set(got.values()) and got['temp'] == 0.02


@pytest.mark.parametrize(
    'path', ['amc/albef_vg_test-384px_refcoco+.py', 'amc/albef_vg_test-384px_referit.py']
)
def test_amc_refcoco_and_referit_evaluation(path):
    cfg = load(path)
    # RefCOCO+ and ReferIt at 384 px (24 x 24 grid) resized as torchvision's PIL bicubic,
    # the official pointing rule
    resize = of_type(cfg.test_dataloader.dataset.pipeline, 'Resize')
    assert resize['scale'] == (384, 384)
    assert resize['interpolation'] == 'bicubic' and resize['backend'] == 'pillow'
    assert of_type(cfg.test_evaluator, 'PointingGameMetric')['protocol'] == 'amc_official'
    split = cfg.test_dataloader.dataset.split
    assert split == ('testA' if 'refcoco+' in path else 'test')


def test_amc_table3_ranks_mattnet_detections():
    cfg = load('amc/albef_vg_test-384px_refcoco+-mattnet-dets.py')
    pipeline = [t['type'] for t in cfg.test_dataloader.dataset.pipeline]
    # the detections are loaded before Resize (original pixels), R@1 at IoU >= 0.5
    assert pipeline.index('LoadRegionFeatures') < pipeline.index('Resize')
    recall = of_type(cfg.test_evaluator, 'BoxRecallMetric')
    assert recall['topk'][0] == 1 and not recall.get('strict_iou', False)
    resize = of_type(cfg.test_dataloader.dataset.pipeline, 'Resize')
    assert resize['scale'] == (384, 384) and resize['interpolation'] == 'bicubic'
    # the official ranking (grounding_eval, alpha=0.5) on the raw, unnormalised map
    assert cfg.model.box_ranking == 'amc_official' and cfg.model.box_area_power == 0.5
    assert cfg.model.explainer.normalize == 'none'
    # the training-side options stay albef_vg.py's
    assert cfg.model.amc_loss.mean_pooling == 'batch'


# -------------------------------------------------------------------------------------- ReIR
@pytest.mark.parametrize(
    'path', ['reir/reir_r101-c4_1xb40-80k_flickr30k.py', 'reir/reir_r101-c4_1xb40-80k_referit.py']
)
def test_reir_paper_configs_use_the_official_box_accuracy(path):
    cfg = load(path)
    # ReIR's flickr30k_evaluation_grounding.py: the union box and IoU > t (docs/formats.md)
    assert of_type(cfg.test_evaluator, 'ReIRBoxMetric')['official'] is True
    assert of_type(cfg.val_evaluator, 'ReIRBoxMetric')['official'] is True
    # pointing under ReIR's named protocol (issue 13 item 1c), as leaderboard.py --paper reir
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        assert of_type(evaluator, 'PointingGameMetric')['protocol'] == 'reir'


def test_amc_384px_resize_is_pils_bicubic():
    """The 384 px test pipelines' Resize gives PIL's ``Image.resize(BICUBIC)`` pixel for pixel
    (the official test transform is torchvision's ``Resize((384, 384), BICUBIC)`` of a PIL
    image, which calls it); mmcv's default cv2 bilinear does not."""
    import numpy as np
    from PIL import Image

    from mmgrounding.registry import TRANSFORMS
    from mmgrounding.utils import register_all_modules

    register_all_modules()
    cfg = load('amc/albef_vg_test-384px_refcoco+.py')
    resize = TRANSFORMS.build(of_type(cfg.test_dataloader.dataset.pipeline, 'Resize'))
    image = np.random.default_rng(0).integers(0, 256, (300, 500, 3), dtype=np.uint8)
    out = resize(dict(img=image.copy(), img_shape=image.shape[:2], ori_shape=image.shape[:2]))
    expected = np.asarray(Image.fromarray(image).resize((384, 384), Image.BICUBIC))
    np.testing.assert_array_equal(out['img'], expected)
    default = TRANSFORMS.build(dict(type='Resize', scale=(384, 384), keep_ratio=False))
    plain = default(dict(img=image.copy(), img_shape=image.shape[:2], ori_shape=image.shape[:2]))
    assert not np.array_equal(plain['img'], expected)
