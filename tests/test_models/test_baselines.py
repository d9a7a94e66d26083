import pytest
import torch

from mmgrounding.evaluation.functional import box_centres, heatmap_peaks
from mmgrounding.registry import MODELS
from mmgrounding.structures import GroundingDataSample


def make_samples(shapes=((120, 160), (90, 60)), phrases=2):
    samples = []
    for i, shape in enumerate(shapes):
        sample = GroundingDataSample()
        sample.set_metainfo(dict(ori_shape=shape, img_id=str(100 + i), caption_id=0,
                                 phrases=[f'phrase {p}' for p in range(phrases)]))
        samples.append(sample)
    return samples


def test_centre_baseline_points_and_boxes_at_the_centre():
    model = MODELS.build(dict(type='CentreBaselineGrounder', grid_size=33, box_fraction=0.5))
    samples = model.predict(torch.zeros(2, 3, 8, 8), make_samples())
    for sample in samples:
        h, w = sample.metainfo['ori_shape']
        # the middle cell (16 of 33) has its centre at exactly half the side
        assert heatmap_peaks(sample.pred_heatmaps, (h, w)).tolist() == [[w / 2, h / 2]] * 2
        assert sample.pred_boxes.shape == (2, 1, 4)
        assert box_centres(sample.pred_boxes[:, 0]).tolist() == [[w / 2, h / 2]] * 2
        # the box covers half of each side: area = w/2 * h/2
        box = sample.pred_boxes[0, 0]
        assert float((box[2] - box[0]) * (box[3] - box[1])) == pytest.approx(w * h / 4)


def test_random_baseline_is_reproducible_and_batch_independent():
    model = MODELS.build(dict(type='RandomBaselineGrounder', seed=3, num_boxes=5))
    both = model.predict(torch.zeros(2, 3, 8, 8), make_samples())
    # the first image (id '100') predicted alone gets the draws it got in the batch
    alone = model.predict(torch.zeros(1, 3, 8, 8), make_samples(shapes=((120, 160), )))
    assert torch.equal(both[0].pred_heatmaps, alone[0].pred_heatmaps)
    assert torch.equal(both[0].pred_boxes, alone[0].pred_boxes)
    assert alone[0].pred_boxes.shape == (2, 5, 4)
    # phrases of one image draw different points; boxes lie inside the image with x1 < x2
    assert not torch.equal(both[0].pred_heatmaps[0], both[0].pred_heatmaps[1])
    boxes = both[0].pred_boxes
    assert bool((boxes[..., 2] > boxes[..., 0]).all() and (boxes[..., 3] > boxes[..., 1]).all())
    assert float(boxes[..., 2].max()) <= 160 and float(boxes[..., 3].max()) <= 120
    other_seed = MODELS.build(dict(type='RandomBaselineGrounder', seed=4, num_boxes=5))
    assert not torch.equal(other_seed.predict(torch.zeros(2, 3, 8, 8), make_samples())[0]
                           .pred_boxes, both[0].pred_boxes)


def test_baselines_refuse_training():
    model = MODELS.build(dict(type='CentreBaselineGrounder'))
    with pytest.raises(RuntimeError, match='nothing to train'):
        model.loss(torch.zeros(1, 3, 8, 8), make_samples())


def test_detector_score_baseline_ranks_proposals_by_score_for_every_phrase():
    from mmengine.structures import InstanceData
    samples = make_samples(shapes=((120, 160), ))
    boxes = torch.tensor([[0., 0, 10, 10], [20, 20, 40, 40], [50, 50, 60, 70]])
    samples[0].proposals = InstanceData(bboxes=boxes, scores=torch.tensor([0.2, 0.9, 0.5]))
    model = MODELS.build(dict(type='DetectorScoreBaselineGrounder'))
    sample = model.predict(None, samples)[0]
    assert sample.pred_boxes.shape == (2, 3, 4)
    for p in range(2):  # the same ranking for both phrases: scores 0.9, 0.5, 0.2
        assert torch.equal(sample.pred_boxes[p], boxes[[1, 2, 0]])
        assert sample.pred_scores[p].tolist() == pytest.approx([0.9, 0.5, 0.2])
    with pytest.raises(KeyError, match='LoadRegionFeatures'):
        model.predict(None, make_samples())
