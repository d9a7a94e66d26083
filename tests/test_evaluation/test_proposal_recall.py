"""proposal_recall_hits: which ground-truth boxes the top-k proposals cover."""
import torch

from mmgrounding.evaluation.functional.proposal_recall import proposal_recall_hits


def test_first_covering_rank_decides_each_k():
    proposals = torch.tensor([[0., 0., 10., 10.],  # rank 0: exactly gt 0
                              [100., 100., 110., 110.],  # rank 1: covers nothing
                              [20., 0., 30., 10.]])  # rank 2: exactly gt 1
    gt = torch.tensor([[0., 0., 10., 10.], [20., 0., 30., 10.], [50., 50., 60., 60.]])
    hits = proposal_recall_hits(proposals, gt, (1, 2, 3, 100))
    assert hits.tolist() == [[True, True, True, True],
                             [False, False, True, True],
                             [False, False, False, False]]


def test_iou_threshold_is_inclusive():
    # [0, 0, 10, 20] vs [0, 0, 10, 10]: intersection 100, union 200 -> IoU 0.5
    proposals = torch.tensor([[0., 0., 10., 20.]])
    gt = torch.tensor([[0., 0., 10., 10.]])
    assert proposal_recall_hits(proposals, gt, (1, ), iou_thr=0.5).tolist() == [[True]]
    assert proposal_recall_hits(proposals, gt, (1, ), iou_thr=0.51).tolist() == [[False]]


def test_no_proposals_or_no_ground_truth():
    gt = torch.tensor([[0., 0., 10., 10.]])
    assert proposal_recall_hits(torch.zeros((0, 4)), gt, (1, 10)).tolist() == [[False, False]]
    assert proposal_recall_hits(gt, torch.zeros((0, 4)), (1, 10)).shape == (0, 2)
