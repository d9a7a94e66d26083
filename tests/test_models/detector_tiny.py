"""A tiny randomly initialised mmdet Faster R-CNN: the SynthGround detector config, narrowed."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmgrounding.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DETECTOR_CONFIG = osp.join(
    REPO, 'configs/detectors/faster-rcnn_r18-c32_fpn_1xb8-10e_synthground-vg.py')
FEATURE_DIM = 16
NUM_CLASSES = 60  # the config's: the default build's (v2) categories


def tiny_detector_cfg() -> Config:
    """The SynthGround detector at 8 base channels, an 8-channel FPN, 16-d box features."""
    cfg = Config.fromfile(DETECTOR_CONFIG)
    model = cfg.model
    model.backbone.base_channels = 8
    model.neck.in_channels = [8, 16, 32, 64]
    model.neck.out_channels = 8
    model.rpn_head.in_channels = model.rpn_head.feat_channels = 8
    model.roi_head.bbox_roi_extractor.out_channels = 8
    model.roi_head.bbox_head.in_channels = 8
    model.roi_head.bbox_head.fc_out_channels = FEATURE_DIM
    model.test_cfg.rpn.nms_pre = 200
    model.test_cfg.rpn.max_per_img = 50
    return cfg


def write_tiny_detector(folder: str, *, seed: int = 0) -> tuple[str, str]:
    """Write the tiny config and a randomly initialised checkpoint; returns their paths."""
    cfg = tiny_detector_cfg()
    config_path = osp.join(folder, 'tiny_faster_rcnn.py')
    cfg.dump(config_path)
    torch.manual_seed(seed)
    with DefaultScope.overwrite_default_scope('mmgrounding'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    checkpoint_path = osp.join(folder, 'tiny_faster_rcnn.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=cfg.metainfo['classes']))),
               checkpoint_path)
    return config_path, checkpoint_path
