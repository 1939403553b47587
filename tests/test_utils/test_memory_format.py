"""to_channels_last on a model with Conv2d and Conv3d (CiCo's CMH): each
weight in its own format, the same outputs."""
import torch

from projects.cico.utils.memory_format import to_channels_last


def test_conv2d_and_conv3d_weights_in_their_formats():
    torch.manual_seed(0)
    net = torch.nn.ModuleDict(
        dict(c2=torch.nn.Conv2d(3, 4, 3), c3=torch.nn.Conv3d(4, 2, 3)))
    x = torch.randn(1, 3, 6, 8, 8)  # (N, C, T, H, W)

    def forward(x):
        y = net.c2(x.transpose(1, 2).flatten(0, 1))  # frames through 2D
        return net.c3(y.unflatten(0, (1, 6)).transpose(1, 2))

    ref = forward(x)
    assert to_channels_last(net) == 2  # the two weights; biases stay
    assert net.c2.weight.is_contiguous(memory_format=torch.channels_last)
    assert net.c3.weight.is_contiguous(memory_format=torch.channels_last_3d)
    assert not net.c2.weight.is_contiguous()
    assert not net.c3.weight.is_contiguous()
    assert torch.allclose(forward(x), ref, atol=1e-5)
