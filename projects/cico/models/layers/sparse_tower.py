"""Evaluate a conv tower and its 3x3 prediction convs at a few locations only.

At test time the box and track towers of the CPH are needed only where a
candidate survived the class-score threshold (box tower) or the NMS (track
tower). Each output location of ``num_convs`` 3x3 convs plus a 3x3 prediction
conv depends on a ``(2R+1) x (2R+1)`` input patch, ``R = num_convs + 1``, of
every frame of the clip. Evaluating the same convs without spatial padding on
those patches, and zeroing after every layer the positions that lie outside the
feature map (where the dense computation sees its zero padding), gives exactly
the dense result at those locations for a fraction of the cost.
"""
from typing import List, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from .clip_conv import ClipConvTower


def supports_sparse(tower: ClipConvTower) -> bool:
    """Point-wise layers only (no norm, or BatchNorm in eval mode): a
    patch is then computed exactly as in the full map."""
    for m in tower.convs:
        norm = m.norm if getattr(m, 'with_norm', False) else None
        is_bn = isinstance(norm, nn.modules.batchnorm._BatchNorm)
        if norm is not None and not (is_bn and not norm.training):
            return False
        k = m.conv.kernel_size
        unit_stride = all(st == 1 for st in m.conv.stride)
        if k[-1] != 3 or k[-2] != 3 or not unit_stride:
            return False
    return True


def extract_patches(x: Tensor, locs: Tensor, radius: int) -> Tensor:
    """(T, C, h, w) maps and (n, 2) (y, x) locations -> (n, T, C, 2r+1,
    2r+1) patches, zero outside the map."""
    t, c, h, w = x.shape
    size = 2 * radius + 1
    padded = F.pad(x, (radius, radius, radius, radius))
    win = padded.unfold(2, size, 1).unfold(3, size, 1)  # T,C,h,w,s,s
    return win[:, :, locs[:, 0], locs[:, 1]].permute(2, 0, 1, 3, 4)


def valid_mask(locs: Tensor, radius: int, size: Sequence[int]) -> Tensor:
    """(n, 2r+1, 2r+1) bool: which patch positions lie inside the map."""
    h, w = size
    off = torch.arange(-radius, radius + 1, device=locs.device)
    ys = locs[:, 0, None] + off[None]
    xs = locs[:, 1, None] + off[None]
    vy = (ys >= 0) & (ys < h)
    vx = (xs >= 0) & (xs < w)
    return vy[:, :, None] & vx[:, None, :]


def sparse_tower_outputs(tower: ClipConvTower, preds: List[nn.Conv2d],
                         x: Tensor, locs: Tensor,
                         clip_len: int) -> List[Tensor]:
    """``preds[i](tower(x))`` at ``locs`` for every frame of one clip.

    Args:
        tower (ClipConvTower): 3x3 (or 3x3x3) convs, point-wise norms.
        preds (list[nn.Conv2d]): 3x3 prediction convs on the tower output.
        x (Tensor): (T, C, h, w), one clip of one FPN level.
        locs (Tensor): (n, 2) long (y, x).
        clip_len (int): T.

    Returns:
        list[Tensor]: per prediction conv, (n, T, out_channels).
    """
    n = locs.shape[0]
    t, _, h, w = x.shape
    if n == 0:
        return [x.new_zeros(0, t, p.out_channels) for p in preds]
    num_convs = len(tower.convs)
    radius = num_convs + 1
    feats = extract_patches(x, locs, radius)  # n, T, C, s, s
    valid = valid_mask(locs, radius, (h, w)).to(feats.dtype)
    is_3d = tower.is_3d and num_convs > 0
    for k, m in enumerate(tower.convs):
        r = radius - k - 1  # radius of this layer's output
        if is_3d:
            cube = feats.transpose(1, 2)  # n, C, T, s, s
            pad_t = m.conv.padding[0]
            out = F.conv3d(
                cube, m.conv.weight, m.conv.bias,
                padding=(pad_t, 0, 0)).transpose(1, 2)
        else:
            flat = feats.flatten(0, 1)
            out = F.conv2d(flat, m.conv.weight,
                           m.conv.bias).view(n, t, -1, 2 * r + 1, 2 * r + 1)
        if getattr(m, 'with_norm', False):
            out = m.norm(out.flatten(0, 1)).view_as(out) if not is_3d else \
                m.norm(out.transpose(1, 2)).transpose(1, 2)
        if getattr(m, 'with_activation', False):
            out = m.activate(out)
        inner = valid[:, radius - r:radius + r + 1, radius - r:radius + r + 1]
        feats = out * inner[:, None, None]
    flat = feats.flatten(0, 1)  # n*T, C, 3, 3
    return [
        F.conv2d(flat, p.weight, p.bias).view(n, t, p.out_channels)
        for p in preds
    ]
