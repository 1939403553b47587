"""Eq. 8 and Eq. 9 against hand-computed values."""
import math

import pytest
import torch

from projects.cico.models.losses import (ClipMaskLoss, QualityBCELoss,
                                         TrackEmbedLoss)


def softplus(x):  # BCE with logits for target 1 is softplus(-x)
    return math.log1p(math.exp(x))


def test_clip_mask_loss_hand_values():
    logits = torch.tensor([[[[0., 0.], [0., 0.]], [[1., -1.], [2., 0.]]]])
    targets = torch.tensor([[[[1., 0.], [0., 0.]], [[1., 0.], [1., 0.]]]])
    crop = torch.tensor([[[True, True], [True, False]]])
    area = torch.tensor([2.])
    # frame 0: three kept pixels, each BCE(sigmoid(0), y) = log 2
    f0 = 3 * math.log(2) / 2
    # frame 1: (1, y=1) softplus(-1); (-1, y=0) softplus(-1); (2, y=1)
    # softplus(-2); the fourth pixel is cropped
    f1 = (softplus(-1) + softplus(-1) + softplus(-2)) / 2
    # anchor in frame 0: weights 0.9^|t - 0| = [1, 0.9]
    expect = (1.0 * f0 + 0.9 * f1) / 1.9
    loss = ClipMaskLoss(
        loss_weight=1.0, clip_len_scale=False, temporal_decay=0.9)
    out = loss(logits, targets, crop, area, torch.tensor([0]))
    assert out.item() == pytest.approx(expect, rel=1e-5)
    # anchor in frame 1: weights [0.9, 1]; x min(T, 5) = 2 with the scale
    scaled = ClipMaskLoss(
        loss_weight=1.0, clip_len_scale=True, temporal_decay=0.9)
    out = scaled(logits, targets, crop, area, torch.tensor([1]))
    assert out.item() == pytest.approx(2 * (0.9 * f0 + f1) / 1.9, rel=1e-5)


def test_clip_mask_loss_averages_per_clip_then_clips():
    loss = ClipMaskLoss(
        loss_weight=1.0, clip_len_scale=False, temporal_decay=1.0)
    logits = torch.zeros(3, 1, 1, 1)
    targets = torch.zeros(3, 1, 1, 1)
    crop = torch.ones(3, 1, 1, dtype=torch.bool)
    area = torch.tensor([1., 1., 2.])  # per-positive loss ln2, ln2, ln2/2
    out = loss(logits, targets, crop, area, torch.zeros(3, dtype=torch.long),
               torch.tensor([0, 0, 1]))
    assert out.item() == pytest.approx(
        (math.log(2) + math.log(2) / 2) / 2, rel=1e-6)


def test_clip_mask_loss_no_positive_is_zero_with_graph():
    logits = torch.zeros(0, 3, 4, 4, requires_grad=True)
    out = ClipMaskLoss()(logits, logits.detach(),
                         torch.zeros(0, 4, 4, dtype=torch.bool),
                         torch.zeros(0), torch.zeros(0, dtype=torch.long))
    assert out.item() == 0 and out.requires_grad


def test_track_embed_loss_hand_values():
    emb = torch.tensor([[1., 0.], [0.6, 0.8], [-1., 0.]])
    ids = torch.tensor([1, 1, 2])
    # d01 = (0.6 + 1) / 2 = 0.8 (same id: -log 0.8, twice)
    # d02 = 0 (different: -log(1 - 0) = 0, twice)
    # d12 = (-0.6 + 1) / 2 = 0.2 (different: -log 0.8, twice); diagonal 0
    expect = 4 * -math.log(0.8) / 9 * 5
    out = TrackEmbedLoss(loss_weight=5.0)(emb, ids)
    assert out.item() == pytest.approx(expect, rel=1e-5)


def test_track_embed_loss_empty():
    emb = torch.zeros(0, 64, requires_grad=True)
    out = TrackEmbedLoss()(emb, torch.zeros(0, dtype=torch.long))
    assert out.item() == 0 and out.requires_grad


def test_clip_mask_loss_zero_probability_outside_the_crop():
    """The authors' form: probability 0 outside the crop, BCE on
    probabilities: an object pixel outside the crop costs 100 (PyTorch's
    log clamp), a background pixel there 0; inside it the same values."""
    logits = torch.tensor([[[[0., 0.], [0., 0.]], [[1., -1.], [2., 0.]]]])
    targets = torch.tensor([[[[1., 0.], [0., 0.]], [[1., 0.], [1., 1.]]]])
    crop = torch.tensor([[[True, True], [True, False]]])
    area = torch.tensor([2.])
    f0 = 3 * math.log(2) / 2
    inside1 = softplus(-1) + softplus(-1) + softplus(-2)
    kwargs = dict(loss_weight=1.0, clip_len_scale=False, temporal_decay=0.9)
    ours = ClipMaskLoss(**kwargs)(logits, targets, crop, area,
                                  torch.tensor([0]))
    assert ours.item() == pytest.approx(
        (f0 + 0.9 * inside1 / 2) / 1.9, rel=1e-5)
    authors = ClipMaskLoss(
        outside_crop='zero_probability', **kwargs)(logits, targets, crop, area,
                                                   torch.tensor([0]))
    assert authors.item() == pytest.approx(
        (f0 + 0.9 * (inside1 + 100) / 2) / 1.9, rel=1e-5)


def test_clip_mask_loss_divided_by_all_clips():
    """Per-positive losses ln2, ln2 (clip 0) and ln2 / 2 (clip 1) in a batch
    of 4 clips: mean over the 2 clips with positives, or sum / 4."""
    logits = torch.zeros(3, 1, 1, 1)
    targets = torch.zeros(3, 1, 1, 1)
    crop = torch.ones(3, 1, 1, dtype=torch.bool)
    area = torch.tensor([1., 1., 2.])
    args = (logits, targets, crop, area, torch.zeros(3, dtype=torch.long),
            torch.tensor([0, 0, 1]))
    kwargs = dict(loss_weight=1.0, clip_len_scale=False, temporal_decay=1.0)
    ours = ClipMaskLoss(**kwargs)(*args, num_clips=4)
    assert ours.item() == pytest.approx(1.5 * math.log(2) / 2, rel=1e-6)
    authors = ClipMaskLoss(avg_over='all_clips', **kwargs)
    assert authors(
        *args, num_clips=4).item() == pytest.approx(
            1.5 * math.log(2) / 4, rel=1e-6)
    with pytest.raises(ValueError, match='num_clips'):
        authors(*args)
    with pytest.raises(ValueError, match='avg_over'):
        ClipMaskLoss(avg_over='batch')


def test_quality_bce_keeps_negative_targets_and_clamps_logs():
    """Logit 1, target -0.125, by hand: -(t log p + (1 - t) log(1 - p))
    with p = sigmoid(1); a logit of 200 saturates p to 1 in float32,
    log(1 - p) is clamped at -100: target 0 costs exactly 100."""
    loss = QualityBCELoss()
    p = 1 / (1 + math.exp(-1))
    expect = -(-0.125 * math.log(p) + 1.125 * math.log(1 - p))
    out = loss(torch.tensor([1.]), torch.tensor([-0.125]))
    assert out.item() == pytest.approx(expect, rel=1e-6)
    sat = loss(torch.tensor([200.]), torch.tensor([0.]))
    assert sat.item() == pytest.approx(100.)
    two = loss(
        torch.tensor([1., 200.]), torch.tensor([-0.125, 0.]), avg_factor=4)
    assert two.item() == pytest.approx((expect + 100) / 4, rel=1e-6)
