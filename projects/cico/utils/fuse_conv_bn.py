"""Fold eval-mode batch norms into the convolutions before them.

At test time a BN is a per-channel affine map, ``y = a * conv(x) + b`` with
``a = gamma / sqrt(running_var + eps)`` and ``b = beta - a * running_mean``,
so it can be folded into the conv's weight and bias: the same outputs (up
to float rounding) without the BN's extra pass over the feature map. mmcv's
``fuse_conv_bn`` folds ``Conv2d`` only (its scale is reshaped to 4-D); CiCo's
3D towers and CMH are ``Conv3d`` + ``BatchNorm3d``, hence this version for
every ``ConvNd``. docs/speed.md has the measured effect.
"""
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd


def _fold(conv: _ConvNd, bn: _BatchNorm) -> _ConvNd:
    """``conv`` with ``bn`` (eval statistics) folded into it, in place."""
    if conv.out_channels != bn.num_features:
        raise ValueError(f'cannot fold {bn} into {conv}: {bn.num_features} vs '
                         f'{conv.out_channels} channels')
    scale = (bn.weight if bn.affine else torch.ones_like(bn.running_var)) \
        / torch.sqrt(bn.running_var + bn.eps)
    shift = bn.bias if bn.affine else torch.zeros_like(bn.running_mean)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(
        bn.running_mean)
    shape = (-1, ) + (1, ) * (conv.weight.dim() - 1)
    with torch.no_grad():
        conv.weight = nn.Parameter(conv.weight * scale.reshape(shape))
        conv.bias = nn.Parameter((bias - bn.running_mean) * scale + shift)
    return conv


def fuse_conv_bn(module: nn.Module) -> nn.Module:
    """Fold every BN that directly follows a conv among its parent's
    children (mmcv's ``ConvModule`` (conv, norm), mmdet's ResNet blocks
    (``conv1``, ``norm1``, ...), ``Sequential(conv, bn)``) into that conv;
    the BN becomes ``nn.Identity``. In place; returns ``module``.

    Only for inference: the folded model has no batch statistics to train.
    A BN in training mode is refused (its output depends on the batch).
    """
    order = getattr(module, 'order', None)  # mmcv ConvModule
    if order is not None and 'norm' in order and order.index(
            'norm') < order.index('conv'):
        return module  # a norm before its conv cannot be folded into it
    last_conv = None
    for name, child in module.named_children():
        if isinstance(child, _BatchNorm) and last_conv is not None:
            if child.training or not child.track_running_stats:
                raise RuntimeError(
                    f'fuse_conv_bn: {name} ({child}) is in training mode or '
                    'has no running statistics; call model.eval() first')
            _fold(getattr(module, last_conv), child)
            setattr(module, name, nn.Identity())
            last_conv = None
        elif isinstance(child, _ConvNd) and not child.transposed:
            last_conv = name
        else:
            fuse_conv_bn(child)
            last_conv = None
    return module


def count_batch_norms(module: nn.Module) -> int:
    """Number of BN layers left in ``module``."""
    return sum(isinstance(m, _BatchNorm) for m in module.modules())
