"""The sample matcher on a constructed scene: window 0 vs 1."""
import pytest
import torch
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData

# one 10x10 object moving right by 12 px per frame (area 100)
FRAMES = [[0., 0., 10., 10.], [12., 0., 22., 10.], [24., 0., 34., 10.]]
ANCHORS = torch.tensor([
    [0., 0., 22., 10.],  # A: = circ(frame 0, 1), area 220
    [0., 0., 10., 10.],  # B: = frame 0 box
    [12., 0., 22., 10.],  # C: = frame 1 box
    [50., 50., 60., 60.],  # D: far away
])


def assign(window, t):
    assigner = TASK_UTILS.build(
        dict(
            type='CircumscribedBoxAssigner',
            window=window,
            pos_iou_thr=0.5,
            neg_iou_thr=0.4,
            min_pos_iou=0.,
            gt_max_assign_all=False))
    gt = InstanceData(
        metainfo=dict(frame_index=t),
        bboxes=torch.tensor([[0., 0., 34., 10.]]),
        labels=torch.tensor([4]),
        frame_bboxes=torch.tensor([FRAMES]))
    res = assigner.assign(InstanceData(priors=ANCHORS), gt)
    return res.gt_inds.tolist(), res.labels.tolist()


def test_window_0_matches_own_frame_box():
    # frame 0: B is the box (IoU 1); A has IoU 100/220 = 0.45 (between the
    # thresholds: ignored); C IoU 0 -> negative
    assert assign(0, 0)[0] == [-1, 1, 0, 0]
    # frame 1: C is the box; A IoU 0.45 -> ignored; B IoU 0 -> negative
    assert assign(0, 1)[0] == [-1, 0, 1, 0]


def test_window_1_matches_circumscribed_box():
    # frame 0: circ(frames 0, 1) = A (IoU 1); B and C IoU 0.45 -> ignored
    gt_inds, labels = assign(1, 0)
    assert gt_inds == [1, -1, -1, 0]
    assert labels[0] == 4
    # frame 1: circ of all three = [0, 0, 34, 10]: A IoU 220/340 positive,
    # B and C 100/340 -> negatives
    assert assign(1, 1)[0] == [1, 0, 0, 0]


def test_needs_frame_index():
    assigner = TASK_UTILS.build(
        dict(type='CircumscribedBoxAssigner', pos_iou_thr=.5, neg_iou_thr=.4))
    with pytest.raises(KeyError, match='frame_index'):
        assigner.assign(
            InstanceData(priors=ANCHORS),
            InstanceData(
                bboxes=torch.zeros(1, 4),
                labels=torch.zeros(1, dtype=torch.long),
                frame_bboxes=torch.zeros(1, 3, 4)))


def test_absent_frames_use_nearest_box():
    # the object is absent in frame 0; its supplemented box (frame 1's)
    # makes C positive at frame 0 with window 0
    from projects.cico.models.utils import supplement_missing_boxes
    boxes = torch.tensor([[[0.] * 4, FRAMES[1], FRAMES[2]]])
    valid = torch.tensor([[False, True, True]])
    filled = supplement_missing_boxes(boxes, valid)
    assigner = TASK_UTILS.build(
        dict(
            type='CircumscribedBoxAssigner',
            window=0,
            pos_iou_thr=.5,
            neg_iou_thr=.4,
            min_pos_iou=0.,
            gt_max_assign_all=False))
    gt = InstanceData(
        metainfo=dict(frame_index=0),
        bboxes=torch.tensor([[12., 0., 34., 10.]]),
        labels=torch.tensor([0]),
        frame_bboxes=filled)
    res = assigner.assign(InstanceData(priors=ANCHORS), gt)
    assert res.gt_inds.tolist() == [-1, 0, 1, 0]
