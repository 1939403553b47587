"""Clip layout helpers and 2D/3D conv towers.

Backbone and FPN run per frame on ``(N*T, C, h, w)`` (frames of a clip
contiguous); 3D convs need the clip cube ``(N, C, T, h, w)``. ``fold`` and
``unfold`` convert between the two, and :class:`ClipConvTower` is a stack of
conv + ReLU layers that is 2D (per frame) or 3D (over the clip) by a switch,
taking and returning the per-frame layout either way.
"""
from typing import Optional

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmdet.utils import OptConfigType
from torch import Tensor


def fold(x: Tensor, clip_len: int) -> Tensor:
    """``(N*T, C, h, w) -> (N, C, T, h, w)``."""
    nt, c, h, w = x.shape
    assert nt % clip_len == 0, (
        f'{nt} frames is not a multiple of the clip length {clip_len}')
    return x.view(nt // clip_len, clip_len, c, h, w).transpose(1, 2)


def unfold(x: Tensor) -> Tensor:
    """``(N, C, T, h, w) -> (N*T, C, h, w)``."""
    n, c, t, h, w = x.shape
    return x.transpose(1, 2).reshape(n * t, c, h, w)


def clip_conv_module(in_channels: int,
                     out_channels: int,
                     is_3d: bool,
                     kernel_size: int = 3,
                     temporal_kernel_size: int = 3,
                     norm_cfg: OptConfigType = None,
                     act_cfg: OptConfigType = dict(type='ReLU'),
                     bias: str = 'auto') -> ConvModule:
    """A ``ConvModule`` that is ``Conv2d`` (k x k) or ``Conv3d``
    (t x k x k, temporal zero padding so T is kept)."""
    if is_3d:
        ks = (temporal_kernel_size, kernel_size, kernel_size)
        pad = (temporal_kernel_size // 2, kernel_size // 2, kernel_size // 2)
        conv_cfg = dict(type='Conv3d')
        if norm_cfg is not None and norm_cfg['type'] in ('BN', 'BN2d'):
            norm_cfg = dict(norm_cfg, type='BN3d')
    else:
        ks, pad, conv_cfg = kernel_size, kernel_size // 2, None
    return ConvModule(
        in_channels,
        out_channels,
        ks,
        padding=pad,
        conv_cfg=conv_cfg,
        norm_cfg=norm_cfg,
        act_cfg=act_cfg,
        bias=bias)


class ClipConvTower(nn.Module):
    """``num_convs`` x (conv + [norm] + ReLU), 2D or 3D.

    Args:
        in_channels (int): input channels.
        feat_channels (int): channels of every layer.
        num_convs (int): depth (0 makes it the identity).
        is_3d (bool): 3D convs over the clip (True) or 2D per frame.
        temporal_kernel_size (int): temporal extent of the 3D kernels.
        norm_cfg (dict, optional): norm layer (3D variant chosen for 3D).
    """

    def __init__(self,
                 in_channels: int,
                 feat_channels: int,
                 num_convs: int,
                 is_3d: bool,
                 temporal_kernel_size: int = 3,
                 norm_cfg: OptConfigType = None) -> None:
        super().__init__()
        self.is_3d = is_3d
        self.convs = nn.Sequential(*[
            clip_conv_module(
                in_channels if i == 0 else feat_channels,
                feat_channels,
                is_3d,
                temporal_kernel_size=temporal_kernel_size,
                norm_cfg=norm_cfg) for i in range(num_convs)
        ])

    def forward(self, x: Tensor, clip_len: Optional[int] = None) -> Tensor:
        """``(N*T, C, h, w) -> (N*T, C', h, w)``; ``clip_len`` is needed
        for the 3D variant."""
        if not self.is_3d or len(self.convs) == 0:
            return self.convs(x)
        assert clip_len is not None, 'a 3D tower needs clip_len'
        return unfold(self.convs(fold(x, clip_len)))
