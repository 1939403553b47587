"""UnclampedDeltaXYWHBBoxCoder: the authors' decoding keeps large size
deltas that mmdet's coder clamps (docs/training_recipe.md#box-losses)."""
import math

import pytest
import torch
from mmdet.registry import TASK_UTILS

import projects.cico  # noqa: F401 (registers the coder)

STDS = (0.1, 0.1, 0.2, 0.2)  # the SSD variances of the CPH


def coder(kind):
    return TASK_UTILS.build(
        dict(type=kind, target_means=(0., 0., 0., 0.), target_stds=STDS))


def test_large_size_delta_is_not_clamped():
    """Anchor [0, 0, 10, 10], dw = 30 x 0.2 = 6: the authors' width is
    10 e^6 = 4034.29 (x from 5 -+ 2017.14); mmdet clamps dw to
    |log(16 / 1000)| = 4.135, width 10 x 1000 / 16 = 625 (5 -+ 312.5). A
    small delta (dw = 0.5) decodes the same in both: width 10 e^0.5."""
    anchor = torch.tensor([[0., 0., 10., 10.]])
    big = torch.tensor([[0., 0., 30., 0.]])
    authors = coder('UnclampedDeltaXYWHBBoxCoder').decode(anchor, big)
    project = coder('DeltaXYWHBBoxCoder').decode(anchor, big)
    half = 5 * math.exp(6)
    assert authors[0].tolist() == pytest.approx([5 - half, 0, 5 + half, 10],
                                                rel=1e-5)
    assert project[0].tolist() == pytest.approx([-307.5, 0, 317.5, 10],
                                                rel=1e-5)
    small = torch.tensor([[0., 0., 2.5, 0.]])
    a = coder('UnclampedDeltaXYWHBBoxCoder').decode(anchor, small)
    p = coder('DeltaXYWHBBoxCoder').decode(anchor, small)
    assert torch.allclose(a, p)
    assert (a[0, 2] - a[0, 0]).item() == pytest.approx(10 * math.exp(0.5))
    # encoding is mmdet's
    gt = torch.tensor([[2., 1., 14., 9.]])
    assert torch.equal(
        coder('UnclampedDeltaXYWHBBoxCoder').encode(anchor, gt),
        coder('DeltaXYWHBBoxCoder').encode(anchor, gt))
