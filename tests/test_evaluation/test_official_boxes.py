"""The official code's box conventions: Flickr30k ground truth as ``get_annotations`` stores it
(0-based inclusive, every XML coordinate minus 1) and InfoGround's inclusive-pixel IoU, on a
real-format Flickr30k Entities file and hand-placed predictions."""

import pytest
import torch
from mmengine.structures import InstanceData

from mmgrounding.datasets import Flickr30kEntitiesDataset
from mmgrounding.evaluation.functional import (
    box_recall_hits,
    official_gt_boxes,
    pixel_inclusive_iou,
    protocol_pointing_hits,
)
from mmgrounding.registry import METRICS
from mmgrounding.structures import GroundingDataSample

# One image of 100x100, entity 1 with the XML box xmin=81..xmax=92, ymin=1..ymax=20
# (1-based inclusive pixel indices, as Annotations/*.xml hold them).
XML = """<annotation>
<filename>7.jpg</filename>
<size><width>100</width><height>100</height><depth>3</depth></size>
<object><name>1</name><bndbox><xmin>81</xmin><ymin>1</ymin><xmax>92</xmax><ymax>20</ymax></bndbox></object>
</annotation>
"""
SENTENCES = '[/EN#1/animals A cat] sits .\n'


@pytest.fixture
def flickr(tmp_path):
    ann = tmp_path / 'flickr30k_entities' / 'Annotations'
    sen = tmp_path / 'flickr30k_entities' / 'Sentences'
    ann.mkdir(parents=True)
    sen.mkdir(parents=True)
    (ann / '7.xml').write_text(XML)
    (sen / '7.txt').write_text(SENTENCES)
    (tmp_path / 'flickr30k_entities' / 'test.txt').write_text('7\n')
    return Flickr30kEntitiesDataset(
        data_root=str(tmp_path), ann_file='flickr30k_entities/test.txt', pipeline=[]
    )


def corner_map():
    """A 2x2 map whose only mass is in cell (row 0, col 1); bicubically upsampled to 100x100
    its first maximum is pixel (x, y) = (91, 8) (derivation in test_pointing_protocols.py)."""
    heat = torch.zeros(1, 2, 2)
    heat[0, 0, 1] = 1.0
    return heat


def sample_from(dataset, *, heatmaps=None, boxes=None):
    info = dataset[0]
    sample = GroundingDataSample()
    sample.set_metainfo(dict(ori_shape=(100, 100), img_path=info['img_path'], phrase_types=[[]]))
    gt = torch.tensor(info['phrases'][0]['boxes_xyxy'])
    sample.gt_instances = InstanceData(bboxes=gt, labels=torch.zeros(len(gt), dtype=torch.long))
    if heatmaps is not None:
        sample.pred_heatmaps = heatmaps
    if boxes is not None:
        sample.pred_boxes = boxes
        sample.pred_scores = torch.ones(boxes.shape[:2])
    return sample.to_dict()


def run(metric_cfg, dataset, sample):
    metric = METRICS.build(metric_cfg)
    metric.dataset_meta = dataset.metainfo  # what the runner's ValLoop / TestLoop does
    metric.process({}, [sample])
    return metric.evaluate(1)


def test_loader_box_and_official_box(flickr):
    # ours: continuous [xmin - 1, ymin - 1, xmax, ymax]; official get_annotations: all four - 1
    assert flickr[0]['phrases'][0]['boxes_xyxy'] == [[80.0, 0.0, 92.0, 20.0]]
    assert flickr.metainfo['box_convention'] == 'pixel_inclusive_1based'
    ours = torch.tensor([[80.0, 0.0, 92.0, 20.0]])
    assert official_gt_boxes(ours, 'pixel_inclusive_1based').tolist() == [[80, 0, 91, 19]]
    assert official_gt_boxes(ours, 'continuous').tolist() == ours.tolist()
    with pytest.raises(ValueError, match='box_convention must be one of'):
        official_gt_boxes(ours, 'xywh')


def test_amc_official_on_flickr_uses_the_official_boxes(flickr):
    # the upsampled peak (91, 8) is pixel column 91 = the box's last column (XML xmax 92).
    # Official: 80 < 91 < 91 fails -> miss; against our continuous box 80 < 91 < 92 -> hit.
    cfg = dict(type='PointingGameMetric', protocol='amc_official', per_type=False)
    sample = sample_from(flickr, heatmaps=corner_map())
    assert run(cfg, flickr, sample) == {'pointing/accuracy': 0.0}
    assert run(dict(cfg, box_convention='continuous'), flickr, sample) == {
        'pointing/accuracy': 100.0
    }
    # REFER / COCO boxes are continuous [x, y, x + w, y + h]: tested as they are
    gt, owner = torch.tensor([[80.0, 0.0, 92.0, 20.0]]), torch.tensor([0])
    assert protocol_pointing_hits(
        'amc_official', gt, owner, (100, 100), heatmaps=corner_map()
    ).tolist() == [True]


def test_infoground_on_flickr_uses_the_official_boxes(flickr):
    # top box [80, 0, 103, 16], centre (91.5, 8): official 91.5 < 91 fails -> miss;
    # continuous 91.5 < 92 -> hit. grid (ours, borders included, continuous) -> hit.
    boxes = torch.tensor([[[80.0, 0.0, 103.0, 16.0]]])
    sample = sample_from(flickr, boxes=boxes)
    base = dict(type='PointingGameMetric', per_type=False)
    assert run(dict(base, protocol='infoground'), flickr, sample) == {'pointing/accuracy': 0.0}
    assert run(dict(base, protocol='infoground', box_convention='continuous'), flickr, sample) == {
        'pointing/accuracy': 100.0
    }
    assert run(dict(base, protocol='grid'), flickr, sample) == {'pointing/accuracy': 100.0}
    # reir (borders included) against the official union box [80, 0, 91, 19]: 91.5 > 91 -> miss
    assert run(dict(base, protocol='reir'), flickr, sample) == {'pointing/accuracy': 0.0}
    assert run(dict(base, protocol='reir', box_convention='continuous'), flickr, sample) == {
        'pointing/accuracy': 100.0
    }


def test_pixel_inclusive_iou_hand_values():
    # identical 10-pixel boxes [0, 0, 9, 9]: 100 / (100 + 1e-6)
    a = torch.tensor([[0.0, 0.0, 9.0, 9.0]])
    assert pixel_inclusive_iou(a, a).item() == pytest.approx(1.0, abs=1e-6)
    # pred [0, 0, 10, 10] (11 x 11 = 121 px), gt [0, 0, 9, 19] (10 x 20 = 200 px):
    # inter [0, 0, 9, 10] = 10 x 11 = 110, union 211 -> 0.52133
    iou = pixel_inclusive_iou(
        torch.tensor([[0.0, 0.0, 10.0, 10.0]]), torch.tensor([[0, 0, 9, 19.0]])
    )
    assert iou.item() == pytest.approx(110 / 211, rel=1e-5)
    # an intersection of width 0 ([3, 0, 3, 3]) counts as empty, as compute_area(invalid=0)
    iou = pixel_inclusive_iou(torch.tensor([[3.0, 0.0, 10.0, 3.0]]), torch.tensor([[0, 0, 3, 3.0]]))
    assert iou.item() == 0.0


def test_box_recall_pixel_inclusive_on_flickr(tmp_path):
    # XML box 1..4 x 1..4: ours [0, 0, 4, 4] (16 px), official [0, 0, 3, 3] (16 px inclusive).
    # Prediction [0, 0, 1.5, 4]: continuous IoU 6 / 16 = 0.375 -> miss. Official: pred area
    # (1.5 + 1) * (4 + 1) = 12.5, inter [0, 0, 1.5, 3] = 2.5 * 4 = 10, union 16 + 12.5 - 10
    # = 18.5 -> 0.5405 -> hit.
    ann = tmp_path / 'flickr30k_entities' / 'Annotations'
    sen = tmp_path / 'flickr30k_entities' / 'Sentences'
    ann.mkdir(parents=True)
    sen.mkdir(parents=True)
    (ann / '7.xml').write_text(
        XML.replace('<xmin>81</xmin>', '<xmin>1</xmin>')
        .replace('<xmax>92</xmax>', '<xmax>4</xmax>')
        .replace('<ymax>20</ymax>', '<ymax>4</ymax>')
    )
    (sen / '7.txt').write_text(SENTENCES)
    (tmp_path / 'flickr30k_entities' / 'test.txt').write_text('7\n')
    dataset = Flickr30kEntitiesDataset(
        data_root=str(tmp_path), ann_file='flickr30k_entities/test.txt', pipeline=[]
    )
    assert dataset[0]['phrases'][0]['boxes_xyxy'] == [[0.0, 0.0, 4.0, 4.0]]
    sample = sample_from(dataset, boxes=torch.tensor([[[0.0, 0.0, 1.5, 4.0]]]))
    base = dict(type='BoxRecallMetric', topk=(1,))
    assert run(base, dataset, sample) == {'box_recall/R@1': 0.0}
    assert run(dict(base, iou='pixel_inclusive'), dataset, sample) == {'box_recall/R@1': 100.0}
    # the pure function takes the boxes as given
    gt_off = official_gt_boxes(torch.tensor([[0.0, 0.0, 4.0, 4.0]]), 'pixel_inclusive_1based')
    pred = torch.tensor([[0.0, 0.0, 1.5, 4.0]])
    assert box_recall_hits(pred, gt_off, (1,), iou='pixel_inclusive').tolist() == [True]
    assert box_recall_hits(pred, gt_off, (1,)).tolist() == [False]  # 4.5 / 10.5 = 0.43
    with pytest.raises(ValueError, match='iou must be one of'):
        METRICS.build(dict(base, iou='inclusive'))


def test_reir_box_metric_official(flickr):
    # official ground truth [80, 0, 91, 19] (209 px); prediction [80, 0, 85.5, 19] covers
    # exactly half of it: IoU 104.5 / 209 = 0.5 -> stage1 counts it (>=), the refined answers
    # (stage2, fused) do not (>). Our continuous box [80, 0, 92, 20] (240 px): IoU 0.435.
    box = torch.tensor([[80.0, 0.0, 85.5, 19.0]])
    sample = sample_from(flickr)
    for box_set in ('stage1', 'stage2', 'fused'):
        sample[f'pred_boxes_{box_set}'] = box
    cfg = dict(type='ReIRBoxMetric', protocols=('union',), iou_thrs=(0.5,), per_type=False)
    official = run(dict(cfg, official=True), flickr, sample)
    assert official['reir/stage1/union/acc@0.5'] == 100.0
    assert official['reir/stage2/union/acc@0.5'] == 0.0
    assert official['reir/fused/union/acc@0.5'] == 0.0
    assert official['reir/stage1/union/miou'] == pytest.approx(50.0)
    assert official['reir/fused/union/pointit'] == 100.0  # centre (82.75, 9.5)
    ours = run(cfg, flickr, sample)
    assert ours['reir/stage1/union/acc@0.5'] == 0.0
    assert ours['reir/stage1/union/miou'] == pytest.approx(100 * 104.5 / 240, rel=1e-5)


@pytest.mark.parametrize('metric', ['PointingGameMetric', 'BoxRecallMetric', 'ReIRBoxMetric'])
def test_unknown_box_convention_is_refused(metric):
    with pytest.raises(ValueError, match='box_convention must be one of'):
        METRICS.build(dict(type=metric, box_convention='one_based'))
