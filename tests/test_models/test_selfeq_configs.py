"""The SelfEQ configs: the SynthGround one is gALBEF's demo plus the branch, the paper-scale
one pins the paper's hyperparameters, and the training pipeline attaches paraphrases."""

import json
import os.path as osp

from mmengine.config import Config

from mmgrounding.registry import DATASETS
from mmgrounding.text.paraphrase import PARAPHRASES_FORMAT

CONFIGS = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs')
SELFEQ = osp.join(CONFIGS, 'selfeq', 'selfeq_albef-tiny_1xb32-900it_synthground-mix.py')
GALBEF = osp.join(CONFIGS, 'amc', 'galbef_albef-tiny_1xb32-900it_synthground-mix.py')
PAPER = osp.join(CONFIGS, 'selfeq', 'selfeq_albef-base_8xb56-30e_vg-coco.py')


def test_synthground_config_is_galbef_plus_the_paraphrase_branch():
    selfeq, galbef = Config.fromfile(SELFEQ), Config.fromfile(GALBEF)
    model, base = selfeq.model.to_dict(), galbef.model.to_dict()
    assert model.pop('type') == 'SelfEQGrounder' and base.pop('type') == 'ALBEFGrounder'
    assert model.pop('self_consistency_loss') == dict(
        type='SelfConsistencyLoss', k=0.8, weight_sim=1.0, weight_cst=0.5
    )
    assert model['explainer'].pop('normalize') == 'minmax'
    assert model == base  # same network, initialisation, ITC/ITM settings, no AMC
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg', 'randomness', 'test_dataloader'):
        assert selfeq[key] == galbef[key], key
    # box-free: the training pipeline loads no box
    types = [t['type'] for t in selfeq.train_pipeline]
    assert 'LoadGroundingAnnotations' not in types and 'LoadParaphrases' in types


def test_paper_scale_config_follows_the_paper():
    cfg = Config.fromfile(PAPER)
    assert cfg.model.type == 'SelfEQGrounder' and cfg.model.amc_loss is None
    consistency = cfg.model.self_consistency_loss
    assert (consistency.k, consistency.weight_sim, consistency.weight_cst) == (0.8, 1.0, 0.5)
    assert cfg.model.explainer.normalize == 'minmax'
    assert cfg.model.explainer.target_layer == 'fusion.layers.2.crossattention.self'
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=1e-5, weight_decay=0.02, fused=True)
    assert cfg.param_scheduler[-1].type == 'CosineAnnealingLR'
    assert cfg.train_dataloader.batch_size == 56
    assert cfg.model.image_encoder.img_size == 256
    parts = cfg.train_dataloader.dataset.datasets
    assert [p.type for p in parts] == ['VisualGenomeTripletDataset', 'CocoCaptionsDataset']
    assert 'LoadGroundingAnnotations' not in [t['type'] for t in cfg.train_pipeline]
    # the official ALBEF code's details (issue 13, item 10)
    assert cfg.model.max_text_length == cfg.model.max_text_length_test == 25
    assert cfg.model.fusion.attention_dropout and cfg.model.distill_alpha_ramp == 'epoch'


def test_training_items_carry_a_paraphrase_and_no_box(synthground_root, tmp_path):
    cfg = Config.fromfile(SELFEQ)
    cache = tmp_path / 'paraphrases.json'
    vg, captions = cfg.train_dataloader.dataset.datasets
    vg = dict(vg, data_root=synthground_root)
    dataset = DATASETS.build(dict(vg, pipeline=[]))
    text = dataset.get_data_info(0)['caption']
    cache.write_text(
        json.dumps(
            dict(format=PARAPHRASES_FORMAT, settings={}, paraphrases={text: ['a paraphrase']})
        )
    )
    pipeline = [
        dict(t, paraphrases_file=str(cache)) if t['type'] == 'LoadParaphrases' else t
        for t in vg['pipeline']
    ]
    item = DATASETS.build(dict(vg, pipeline=pipeline))[0]
    assert item['inputs'].shape == (3, 64, 64)
    assert item['data_samples'].metainfo['paraphrase'] == 'a paraphrase'
    assert 'gt_instances' not in item['data_samples']


SELFEQ_FT = osp.join(CONFIGS, 'selfeq', 'selfeq-ft_albef-tiny_1xb32-200it_synthground-mix.py')
AMC_FT = osp.join(CONFIGS, 'selfeq', 'amc-ft_albef-tiny_1xb32-200it_synthground-mix.py')
AMC_RECIPE = osp.join(CONFIGS, 'amc', 'amc_albef-tiny_1xb32-900it_synthground-mix.py')
GALBEF_FT = osp.join(CONFIGS, 'selfeq', 'galbef-ft_albef-tiny_1xb32-200it_synthground-mix.py')


def test_fine_tunes_differ_only_by_the_paraphrase_branch():
    selfeq, galbef = Config.fromfile(SELFEQ_FT), Config.fromfile(GALBEF_FT)
    model, base = selfeq.model.to_dict(), galbef.model.to_dict()
    assert model.pop('type') == 'SelfEQGrounder' and base.pop('type') == 'ALBEFGrounder'
    model.pop('self_consistency_loss')
    model['explainer'].pop('normalize')
    assert model == base
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg', 'randomness', 'load_from'):
        assert selfeq[key] == galbef[key], key
    assert selfeq.test_dataloader == galbef.test_dataloader
    # the same training texts and images (the SelfEQ pipeline loads no box, gALBEF's boxes
    # are read by no loss)
    for a, b in zip(
        selfeq.train_dataloader.dataset.datasets, galbef.train_dataloader.dataset.datasets
    ):
        assert {k: v for k, v in a.items() if k != 'pipeline'} == {
            k: v for k, v in b.items() if k != 'pipeline'
        }
    assert selfeq.train_cfg.max_iters == 200 and selfeq.param_scheduler[-1].end == 200
    assert selfeq.default_hooks.checkpoint.interval == 200
    # AMC's fine-tune: gALBEF's plus the AMC loss of the registry's AMC recipe, nothing else
    amc = Config.fromfile(AMC_FT)
    amc_model, galbef_model = amc.model.to_dict(), galbef.model.to_dict()
    recipe = Config.fromfile(AMC_RECIPE)
    assert amc_model.pop('amc_loss') == recipe.model.amc_loss.to_dict() == dict(type='AMCLoss')
    assert galbef_model.pop('amc_loss') is None
    assert amc_model == galbef_model
    assert amc.train_dataloader == recipe.train_dataloader  # the VG boxes AMC reads
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg', 'load_from', 'default_hooks'):
        assert amc[key] == galbef[key], key


def test_registry_fine_tunes_start_from_the_registry_galbef():
    from mmgrounding.apis import synthground_leaderboard as registry
    from mmgrounding.apis.leaderboard_entries import selfeq as entries

    base, seed = entries.PRETRAINED
    galbef = registry.experiment(base.name)
    assert (base.config, base.cfg_options) == (galbef.config, galbef.cfg_options)
    assert seed in galbef.seeds
    for name in ('selfeq-ft', 'galbef-ft', 'amc-ft'):
        e = registry.experiment(name)
        assert e.init_from == entries.PRETRAINED
        cfg = Config.fromfile(osp.join(osp.dirname(CONFIGS), e.config))
        # the config's own load_from is the registry's work dir of that run
        assert cfg.load_from == f'work_dirs/leaderboard/{base.name}/seed{seed}/iter_900.pth'
    registry.check_registry()


def test_itc_term_fine_tunes_are_their_siblings_with_the_term():
    for sibling in (SELFEQ_FT, GALBEF_FT):
        cfg = Config.fromfile(sibling.replace('synthground-mix.py', 'synthground-mix-itc-term.py'))
        base = Config.fromfile(sibling)
        model = cfg.model.to_dict()
        assert model.pop('itm_itc_term') is True and 'itm_itc_term' not in base.model
        assert model == base.model.to_dict()
        keys = cfg.optim_wrapper.paramwise_cfg.custom_keys.to_dict()
        assert keys.pop('itm_fused_proj') == dict(lr_mult=10.0)
        assert keys == base.optim_wrapper.paramwise_cfg.custom_keys.to_dict()
        for key in ('param_scheduler', 'train_cfg', 'load_from', 'train_dataloader'):
            assert cfg[key] == base[key], key


def test_run_experiments_trains_the_checkpoint_a_fine_tune_loads_first(monkeypatch, tmp_path):
    """`init_from`: the base run is trained in a stage before the fine-tunes, which load its
    final checkpoint; the records name it (training and evaluation are stubbed out here: the
    order of the calls and the configs they get are what is checked)."""
    from mmgrounding.apis import experiments as ex
    from mmgrounding.apis import synthground_leaderboard as registry

    stages = []

    def fake_train_all(runs, **kwargs):
        stages.append([(r.key, r.cfg.get('load_from')) for r in runs])
        return {
            r.key: ex.TrainResult(r.key, 'trained', ex.final_checkpoint(r.cfg), 'f', 'w', 1.0, 1)
            for r in runs
        }

    def fake_evaluate(cfg, **kwargs):
        return ex.EvalResult({'pointing/accuracy': 1.0}, {}, 0.0)

    monkeypatch.setattr(ex, 'train_all', fake_train_all)
    monkeypatch.setattr(ex, 'evaluate', fake_evaluate)
    monkeypatch.setattr(ex, 'TrainingDisplay', _NullDisplay)
    monkeypatch.setattr(ex, 'EvalDisplay', _NullDisplay)
    work = str(tmp_path / 'w')
    records = ex.run_experiments(
        [registry.experiment('selfeq-ft')],
        splits_of=lambda e: ['Flickr30k val'],
        work_dir=work,
        seeds=[1],
        max_iters=3,
    )
    base = osp.join(work, 'galbef', 'seed0-it3', 'iter_3.pth')
    assert stages == [[('galbef/seed0', None)], [('selfeq-ft/seed1', base)]]
    record = records['selfeq-ft/seed1']
    assert record['init_from']['experiment'] == 'galbef' and record['init_from']['seed'] == 0
    assert record['init_from']['weights_sha256'] == 'w'
    assert list(records) == ['selfeq-ft/seed1']  # the base is trained, not reported


class _NullDisplay:
    def __init__(self, *args, **kwargs):
        import io

        from rich.console import Console

        self.console = Console(file=io.StringIO())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def summary(self):
        return ''

    def __getattr__(self, name):
        return lambda *args, **kwargs: None
