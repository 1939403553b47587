"""ReferenceFPN: the authors' FPN with mmdet FPN's parameter names.

ReLU on P3-P5, P6 = stride-2 conv of the rectified P5, P7 = stride-2 conv of
P6 without a ReLU, bilinear top-down path (``align_corners=False``) to each
lateral's size, C3-C5 only
(``docs/reference_implementation.md#architecture``).
"""
import pytest
import torch
import torch.nn.functional as F
from mmdet.models.necks import FPN

from projects.cico.models.necks import ReferenceFPN

UPSAMPLE = dict(mode='bilinear', align_corners=False)


def make_fpn(channels=(2, 1, 1, 1), out_channels=1, **kwargs):
    return ReferenceFPN(
        in_channels=list(channels),
        out_channels=out_channels,
        start_level=1,
        num_outs=5,
        upsample_cfg=UPSAMPLE,
        **kwargs)


def set_identity_weights(fpn: ReferenceFPN) -> None:
    """1x1 laterals = identity; every 3x3 conv reads only its centre tap;
    output convs subtract 0.5, the P6/P7 convs subtract 1."""
    for m in fpn.lateral_convs:
        m.conv.weight.data.fill_(1.)
        m.conv.bias.data.zero_()
    for i, m in enumerate(fpn.fpn_convs):
        m.conv.weight.data.zero_()
        m.conv.weight.data[0, 0, 1, 1] = 1.
        m.conv.bias.data.fill_(-0.5 if i < 3 else -1.)


def test_outputs_by_hand():
    fpn = make_fpn()
    set_identity_weights(fpn)
    c5 = torch.tensor([[-1., 2.], [3., 4.]])[None, None]
    c4 = torch.zeros(1, 1, 3, 3)  # odd size: resize to it, not x2
    c3 = torch.zeros(1, 1, 6, 6)
    c2 = torch.randn(1, 2, 12, 12)
    with torch.no_grad():
        p3, p4, p5, p6, p7 = fpn((c2, c3, c4, c5))
    # P5 = ReLU(C5 - 0.5)
    assert p5[0, 0].tolist() == [[0., 1.5], [2.5, 3.5]]
    # C5 resized 2x2 -> 3x3 (align_corners=False: rows/cols a, (a+b)/2, b)
    # = [[-1, .5, 2], [1, 2, 3], [3, 3.5, 4]]; P4 = ReLU(that - 0.5)
    assert p4[0, 0].tolist() == [[0., 0., 1.5], [0.5, 1.5, 2.5],
                                 [2.5, 3., 3.5]]
    # P3[4, 4]: 3 -> 6 puts row/col 4 at 1.75 of the 3x3 lateral:
    # .0625 * 2 + .1875 * 3 + .1875 * 3.5 + .5625 * 4 - 0.5
    assert p3[0, 0, 4, 4].item() == pytest.approx(3.09375)
    # P6 from the rectified P5 (ReLU(-1.5) = 0), no ReLU after it
    assert p6[0, 0].tolist() == [[-1.]]
    # P7 from P6 as it is (a ReLU before the conv would give -1)
    assert p7[0, 0].tolist() == [[-2.]]
    # C2 is not used
    with torch.no_grad():
        again = fpn((c2 * 0, c3, c4, c5))
    assert all(torch.equal(a, b) for a, b in zip(again, (p3, p4, p5, p6, p7)))


def test_random_weights_against_the_formulas():
    torch.manual_seed(0)
    fpn = make_fpn(channels=(4, 6, 8, 10), out_channels=5)
    c = [
        torch.randn(2, n, s, s + 2)
        for n, s in ((4, 20), (6, 11), (8, 6), (10, 3))
    ]
    with torch.no_grad():
        outs = fpn(tuple(c))
        lat = [fpn.lateral_convs[i].conv(c[i + 1]) for i in range(3)]
        lat[1] = lat[1] + F.interpolate(lat[2], lat[1].shape[2:], **UPSAMPLE)
        lat[0] = lat[0] + F.interpolate(lat[1], lat[0].shape[2:], **UPSAMPLE)
        p = [F.relu(fpn.fpn_convs[i].conv(lat[i])) for i in range(3)]
        p.append(fpn.fpn_convs[3].conv(p[2]))
        p.append(fpn.fpn_convs[4].conv(p[3]))
    assert [tuple(o.shape[2:]) for o in outs] == [(11, 13), (6, 8), (3, 5),
                                                  (2, 3), (1, 2)]
    for ours, expected in zip(outs, p):
        assert torch.allclose(ours, expected, atol=1e-6)
    assert (outs[3] < 0).any() and (outs[4] < 0).any()  # no ReLU on P6/P7


def test_same_parameters_as_mmdet_fpn():
    ours = make_fpn(channels=(4, 6, 8, 10), out_channels=5)
    mmdet_fpn = FPN([4, 6, 8, 10],
                    5,
                    5,
                    start_level=1,
                    add_extra_convs='on_output')
    theirs = {k: tuple(v.shape) for k, v in mmdet_fpn.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == theirs
    assert len(theirs) == 16  # 3 laterals + 5 output convs, weight + bias


@pytest.mark.parametrize('kwargs', [
    dict(add_extra_convs='on_input'),
    dict(relu_before_extra_convs=True),
    dict(act_cfg=dict(type='ReLU'))
])
def test_options_it_cannot_honour_are_errors(kwargs):
    with pytest.raises(ValueError):
        make_fpn(**kwargs)
