"""The authors' sample matcher against the project's, on one constructed
frame where every rule of the authors' matcher changes an anchor."""
import pytest
import torch
from mmengine.structures import InstanceData

from projects.cico.models.task_modules import (CircumscribedBoxAssigner,
                                               ForcedMatchAssigner)

# three objects (one frame, T = 1); GT1 and GT2 overlap
GTS = torch.tensor([[0., 0., 10., 10.], [0., 0., 10., 12.],
                    [50., 50., 60., 60.]])
# IoUs with (GT1, GT2, GT3) in the comments
ANCHORS = torch.tensor([
    [0., 0., 10., 10.],  # a0: 1, 100/120, 0
    [0., 0., 10., 12.],  # a1: 100/120, 1, 0
    [0., 0., 10., 11.],  # a2: 100/110, 110/120, 0 (> 0.5 with two)
    [50., 50., 60., 52.],  # a3: 0, 0, 0.2 (GT3's best anchor)
    [0., 0., 10., 4.9],  # a4: 0.49, 49/120, 0
    [0., 0., 10., 3.9],  # a5: 0.39, 39/120, 0
])


def _gts(**meta) -> InstanceData:
    gts = InstanceData(
        metainfo=dict(frame_index=0, **meta),
        frame_bboxes=GTS[:, None],
        labels=torch.tensor([4, 5, 6]))
    return gts


def test_authors_matcher_by_hand():
    """a0, a1: forced matches of GT1, GT2 (their IoU > 0.5 with two
    objects would neutralise them); a2: IoU > 0.5 with GT1 and GT2 ->
    v = 0.45 x 1.05 = 0.4725, ignored; a3: GT3's forced match fails
    (v = 0.2 < 0.225 while a positive exists) -> 0.21, negative; a4:
    0.49 x 1.05 = 0.5145 > 0.5, positive; a5: 0.39 x 1.05 = 0.4095,
    ignored."""
    res = ForcedMatchAssigner().assign(
        InstanceData(priors=ANCHORS), _gts(batch_input_shape=(64, 64)))
    assert res.gt_inds.tolist() == [1, 2, -1, 0, 1, -1]
    assert res.labels.tolist() == [4, 5, -1, -1, 4, -1]
    expect = [2.1, 2.1, 0.4725, 0.21, 0.5145, 0.4095]
    assert res.max_overlaps.tolist() == pytest.approx(expect, abs=1e-5)


def test_project_matcher_differs_on_the_same_frame():
    """mmdet's max-IoU rule on the same frame: a2 positive for GT2 (its
    larger IoU), a3 positive for GT3 (each object's best anchor is taken
    whatever its IoU), a4 ignored (0.49 < 0.5), a5 negative (< 0.4)."""
    res = CircumscribedBoxAssigner(
        window=0,
        pos_iou_thr=0.5,
        neg_iou_thr=0.4,
        min_pos_iou=0.,
        gt_max_assign_all=False).assign(InstanceData(priors=ANCHORS), _gts())
    assert res.gt_inds.tolist() == [1, 2, 2, 3, -1, 0]


def test_forced_match_when_no_anchor_is_positive():
    """Without any anchor above 0.5 the first forced match is taken even
    below 0.225: an object of IoU 0.2 keeps one positive."""
    res = ForcedMatchAssigner().assign(
        InstanceData(priors=ANCHORS[3:4]),
        InstanceData(
            metainfo=dict(frame_index=0, batch_input_shape=(64, 64)),
            frame_bboxes=GTS[2:, None],
            labels=torch.tensor([6])))
    assert res.gt_inds.tolist() == [1]
    assert res.max_overlaps.tolist() == pytest.approx([2.1])


def test_small_object_boost_needs_small_frames_in_longer_windows():
    """With F window frames the boost needs a small box in min(F // 2, 1)
    of them: F = 1 always boosts, F = 2 needs one frame of normalised area
    < 0.01."""
    assigner = ForcedMatchAssigner()
    boxes = torch.tensor([[[0., 0., 10., 10.], [0., 0., 10., 10.]],
                          [[0., 0., 1., 1.], [0., 0., 10., 10.]]])
    assert assigner.small_objects(boxes[:, :1],
                                  (20, 20)).tolist() == [True, True]
    # 100 / 400 = 0.25 in both frames; 1 / 400 < 0.01 in one frame
    assert assigner.small_objects(boxes, (20, 20)).tolist() == [False, True]


def test_missing_metainfo_is_named():
    with pytest.raises(KeyError, match='batch_input_shape'):
        ForcedMatchAssigner().assign(InstanceData(priors=ANCHORS), _gts())
    with pytest.raises(ValueError, match='neg_iou_thr'):
        ForcedMatchAssigner(pos_iou_thr=0.3, neg_iou_thr=0.4)


def test_window_matches_the_circumscribed_box():
    """window=1 on frame 1 of a 3-frame clip: the object's box moves
    (0..10, 10..20, 20..30 in x), so the matched box is (0, 0, 30, 10): the
    anchor equal to it is the forced match; the anchor equal to frame 1's
    own box has IoU 1/3 -> 0.35, a negative. With window 0 the roles swap
    (IoU 1/3 for the wide anchor)."""
    boxes = torch.tensor([[[0., 0., 10., 10.], [10., 0., 20., 10.],
                           [20., 0., 30., 10.]]])
    anchors = torch.tensor([[0., 0., 30., 10.], [10., 0., 20., 10.]])
    gts = InstanceData(
        metainfo=dict(frame_index=1, batch_input_shape=(100, 100)),
        frame_bboxes=boxes,
        labels=torch.tensor([0]))
    wide = ForcedMatchAssigner(window=1).assign(
        InstanceData(priors=anchors), gts)
    own = ForcedMatchAssigner(window=0).assign(
        InstanceData(priors=anchors), gts)
    assert wide.gt_inds.tolist() == [1, 0]
    assert own.gt_inds.tolist() == [0, 1]
    assert own.max_overlaps.tolist() == pytest.approx([1.05 / 3, 2.1])


def test_frame_without_objects_is_ignored():
    """No object in the frame: every anchor ignored (-1), where mmdet's
    assigner makes them negatives (0)."""
    empty = InstanceData(
        metainfo=dict(frame_index=0, batch_input_shape=(64, 64)),
        frame_bboxes=torch.zeros(0, 1, 4),
        labels=torch.zeros(0, dtype=torch.long))
    res = ForcedMatchAssigner().assign(InstanceData(priors=ANCHORS), empty)
    assert res.gt_inds.tolist() == [-1] * 6
    ours = CircumscribedBoxAssigner(
        window=0, pos_iou_thr=0.5,
        neg_iou_thr=0.4).assign(InstanceData(priors=ANCHORS), empty)
    assert ours.gt_inds.tolist() == [0] * 6
