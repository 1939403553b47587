"""fold/unfold and the 2D/3D conv tower."""
import torch
import torch.nn as nn

from projects.cico.models.layers import ClipConvTower, fold, unfold


def test_fold_unfold_layout():
    n, t, c = 2, 3, 4
    x = torch.arange(
        n * t, dtype=torch.float)[:, None, None, None].expand(n * t, c, 2,
                                                              2).contiguous()
    cube = fold(x, t)
    assert cube.shape == (n, c, t, 2, 2)
    # clip 1, frame 2 is flat frame 1 * 3 + 2 = 5
    assert cube[1, :, 2].unique().tolist() == [5.]
    assert torch.equal(unfold(cube), x)


def test_tower_switch_types_and_parameters():
    t3 = ClipConvTower(8, 8, 2, is_3d=True)
    t2 = ClipConvTower(8, 8, 2, is_3d=False)
    assert all(isinstance(m.conv, nn.Conv3d) for m in t3.convs)
    assert t3.convs[0].conv.kernel_size == (3, 3, 3)
    assert t3.convs[0].conv.padding == (1, 1, 1)
    assert all(isinstance(m.conv, nn.Conv2d) for m in t2.convs)
    n3 = sum(p.numel() for p in t3.parameters())
    n2 = sum(p.numel() for p in t2.parameters())
    assert n3 == 2 * (8 * 8 * 27 + 8)
    assert n2 == 2 * (8 * 8 * 9 + 8)


def test_3d_tower_mixes_frames_only_within_a_clip():
    torch.manual_seed(0)
    tower = ClipConvTower(2, 2, 1, is_3d=True).eval()
    x = torch.randn(6, 2, 5, 5)  # 2 clips of 3 frames
    y = tower(x, 3)
    x2 = x.clone()
    x2[3:] = torch.randn(3, 2, 5, 5)  # change clip 2 only
    y2 = tower(x2, 3)
    assert torch.allclose(y[:3], y2[:3])
    assert not torch.allclose(y[3:], y2[3:])
    # frame 0 does not see frame 2 (3x3x3 kernel, zero temporal padding)
    x3 = x.clone()
    x3[2] = torch.randn(2, 5, 5)
    assert torch.allclose(tower(x3, 3)[0], y[0])
    assert not torch.allclose(tower(x3, 3)[1], y[1])
