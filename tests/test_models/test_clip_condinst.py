"""CiCo-CondInst's dynamic FCN (Eq. 6) on constructed cases."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS

from projects.cico.models.mask_heads import ClipCondInstFCN


def test_parameter_counts():
    assert ClipCondInstFCN().num_params == 169  # paper: 2 coord channels
    assert ClipCondInstFCN(rel_coords='gaussian').num_params == 161  # ref.
    assert ClipCondInstFCN(
        num_protos=8,
        channels=16).num_params == (10 * 16 + 16 * 16 + 16 + 16 + 16 + 1)
    with pytest.raises(ValueError, match='rel_coords'):
        ClipCondInstFCN(rel_coords='polar')


def test_offset_coordinates():
    fcn = ClipCondInstFCN()
    box = torch.tensor([[2., 2., 10., 8.]])  # centre (6, 5), longer side 8
    maps = fcn.coord_maps(box, (16, 24))
    assert maps.shape == (1, 2, 16, 24)
    # pixel (y=4, x=9) has centre (9.5, 4.5)
    assert maps[0, 0, 4, 9].item() == pytest.approx((9.5 - 6) / 8)
    assert maps[0, 1, 4, 9].item() == pytest.approx((4.5 - 5) / 8)


def test_gaussian_coordinates():
    fcn = ClipCondInstFCN(rel_coords='gaussian')
    box = torch.tensor([[2., 2., 6., 4.]])  # w 4, h 2: sigma 6, 3
    maps = fcn.coord_maps(box, (16, 24))
    assert maps.shape == (1, 1, 16, 24)
    # rounded centre pixel (x=4, y=3) is 1; 6 px right = one sigma_x
    assert maps[0, 0, 3, 4].item() == pytest.approx(1.0)
    assert maps[0, 0, 3, 10].item() == pytest.approx(math.exp(-0.5))
    assert maps[0, 0, 6, 4].item() == pytest.approx(math.exp(-0.5))


def test_gaussian_centre_is_rounded_not_floored():
    """Box centre x 4.6: the authors' centre pixel is round(4.6) = 5 (the
    map is 1 there), where flooring would give 4; a centre of 4.5 rounds
    half to even, to 4."""
    fcn = ClipCondInstFCN(rel_coords='gaussian')
    maps = fcn.coord_maps(torch.tensor([[2.6, 2., 6.6, 4.]]), (16, 24))
    assert maps[0, 0, 3, 5].item() == pytest.approx(1.0)
    assert maps[0, 0, 3, 4].item() < 1
    half = fcn.coord_maps(torch.tensor([[2.5, 2., 6.5, 4.]]), (16, 24))
    assert half[0, 0, 3, 4].item() == pytest.approx(1.0)


def test_equals_three_explicit_1x1x1_convs():
    """Eq. 6 for each instance = three Conv3d(1x1x1) with the instance's
    weights on [relative coords, prototypes], ReLU between them."""
    torch.manual_seed(0)
    fcn = ClipCondInstFCN(chunk_size=2)  # exercise chunking
    t, h, w = 3, 6, 8
    protos = torch.rand(8, t, h, w)
    params = torch.randn(5, 169)
    boxes = torch.tensor([[1., 1., 5., 4.], [0., 0., 8., 6.], [2., 3., 3., 4.],
                          [4., 1., 7., 5.], [1., 2., 6., 3.]])
    out = fcn(protos, params, boxes)
    assert out.shape == (5, t, h, w)
    for i in range(5):
        coords = fcn.coord_maps(boxes[i:i + 1], (h, w))[0]  # (2, h, w)
        x = torch.cat([coords[:, None].expand(-1, t, -1, -1), protos])[None]
        p = params[i]
        w0, w1, w2 = p[:80].view(8, 10), p[80:144].view(8, 8), \
            p[144:152].view(1, 8)
        b0, b1, b2 = p[152:160], p[160:168], p[168:169]
        y = F.relu(F.conv3d(x, w0[..., None, None, None], b0))
        y = F.relu(F.conv3d(y, w1[..., None, None, None], b1))
        y = F.conv3d(y, w2[..., None, None, None], b2)
        assert torch.allclose(out[i], y[0, 0], atol=1e-5)


def test_hand_set_parameters_give_a_known_mask():
    """layer 0 copies dx into every channel, layer 1 and 2 pass channel 0
    with weight 1, bias -0.25 at the end: logit = relu(dx) - 0.25, i.e. the
    mask is the part of the frame more than soi / 4 right of the centre."""
    fcn = ClipCondInstFCN()
    p = torch.zeros(1, 169)
    w0 = torch.zeros(8, 10)
    w0[:, 0] = 1.  # dx
    w1 = torch.zeros(8, 8)
    w1[0, 0] = 1.
    w2 = torch.zeros(1, 8)
    w2[0, 0] = 1.
    p[0, :80], p[0, 80:144], p[0, 144:152] = w0.flatten(), w1.flatten(), \
        w2.flatten()
    p[0, 168] = -0.25
    box = torch.tensor([[0., 0., 8., 4.]])  # centre x 4, soi 8
    out = fcn(torch.zeros(8, 2, 4, 16), p, box)
    expect = (torch.arange(16) + 0.5 - 4).clamp(min=0) / 8 - 0.25
    assert torch.allclose(out[0, 1, 2], expect)
    mask = out[0, 0, 0] > 0
    assert mask.nonzero()[:, 0].min().item() == 6  # (6.5 - 4) / 8 > 0.25


def test_condinst_protonet_end_to_end(clip_factory):
    from mmengine.structures import InstanceData
    net = MODELS.build(
        dict(
            type='ClipProtoNet',
            num_classes=3,
            in_channels=8,
            proto_channels=8,
            num_protos=8,
            mask_fcn=dict(type='ClipCondInstFCN')))
    assert net.num_params == 169
    protos = net(
        tuple(torch.randn(3, 8, s, s2)
              for s, s2 in ((8, 12), (4, 6), (2, 3))))[0]
    assert protos.shape == (1, 8, 3, 16, 24)
    gts = [f.gt_instances for f in clip_factory(3)['data_samples']]
    params = torch.randn(2, 169, requires_grad=True)
    pos = InstanceData(
        frame_inds=torch.tensor([0, 2]),
        gt_inds=torch.tensor([0, 0]),
        params=params)
    loss = net.loss_by_feat(protos, gts,
                            [dict(batch_input_shape=(64, 96))] * 3, [pos])
    loss['loss_mask'].backward()
    assert torch.isfinite(loss['loss_mask'])
    assert params.grad.abs().sum() > 0
