"""Eq. 4 circumscribed boxes, nearest-frame supplementation, clip GT."""
import torch

from projects.cico.models.utils import (build_clip_instances,
                                        circumscribed_boxes,
                                        supplement_missing_boxes,
                                        window_circumscribed_boxes)

B0, B1, B2 = [0., 0., 10., 10.], [5., 5., 20., 15.], [2., -1., 8., 9.]


def test_circumscribed_boxes_eq4():
    boxes = torch.tensor([[B0, B1, B2]])
    assert circumscribed_boxes(boxes).tolist() == [[0., -1., 20., 15.]]
    valid = torch.tensor([[True, False, True]])
    assert circumscribed_boxes(boxes, valid).tolist() == [[0., -1., 10., 10.]]
    none = torch.tensor([[False, False, False]])
    assert circumscribed_boxes(boxes, none).tolist() == [[0., 0., 0., 0.]]


def test_supplement_nearest_frame():
    b = torch.tensor([[[9.] * 4, B0, [9.] * 4, B1]])
    valid = torch.tensor([[False, True, False, True]])
    out = supplement_missing_boxes(b, valid)
    # frame 0 <- frame 1; frame 2 is 1 away from frames 1 and 3 -> earlier
    assert out.tolist() == [[B0, B0, B0, B1]]


def test_window_circumscribed():
    boxes = torch.tensor([[B0, B1, B2]])
    w1 = window_circumscribed_boxes(boxes, 1)
    assert w1[0, 0].tolist() == [0., 0., 20., 15.]  # frames 0, 1
    assert w1[0, 1].tolist() == [0., -1., 20., 15.]  # frames 0, 1, 2
    assert w1[0, 2].tolist() == [2., -1., 20., 15.]  # frames 1, 2
    assert torch.equal(window_circumscribed_boxes(boxes, 0), boxes)


def test_build_clip_instances(clip_factory):
    objects = [
        dict(id=7, label=2, boxes=[(10, 10, 20, 20), None, (14, 10, 24, 22)]),
        dict(id=3, label=1, boxes=[None, (30, 30, 40, 36), None]),
    ]
    clip = clip_factory(t=3, h=48, w=64, objects=objects)
    gt = build_clip_instances([f.gt_instances for f in clip['data_samples']])
    assert gt.instances_ids.tolist() == [3, 7]  # sorted ids
    assert gt.labels.tolist() == [1, 2]
    assert gt.frame_valid.tolist() == [[False, True, False],
                                       [True, False, True]]
    # absent frames take the nearest present box (frame 1 of id 7 -> 0)
    assert gt.frame_bboxes[1].tolist() == [[10, 10, 20, 20], [10, 10, 20, 20],
                                           [14, 10, 24, 22]]
    assert gt.frame_bboxes[0].tolist() == [[30, 30, 40, 36]] * 3
    # circumscribed over present frames only
    assert gt.bboxes.tolist() == [[30, 30, 40, 36], [10, 10, 24, 22]]
    assert gt.masks.shape == (2, 3, 48, 64)
    assert gt.masks[1, 1].sum() == 0 and gt.masks[1, 0].sum() == 100
    assert gt.masks[0, 1].sum() == 60
