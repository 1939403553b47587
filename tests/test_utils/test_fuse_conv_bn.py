"""fuse_conv_bn: BN folded into Conv2d and Conv3d gives the same outputs,
leaves no BN behind, refuses training-mode BNs and skips pre-norm convs."""
import copy

import pytest
import torch
from mmcv.cnn import ConvModule
from mmdet.registry import MODELS
from mmengine.config import Config
from torch import nn

from projects.cico.utils.fuse_conv_bn import count_batch_norms, fuse_conv_bn

CONFIG = 'configs/cico_yolact_r18_synthvis.py'


def random_bn_stats(model, seed=0):
    """Non-trivial running statistics and affine parameters, so a wrong
    fold (a wrong axis, a missing shift) changes the outputs."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.5)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.2)
    return model


def test_hand_computed_conv3d_fold():
    conv = nn.Conv3d(1, 1, 1, bias=False)
    conv.weight.data.fill_(2.0)
    bn = nn.BatchNorm3d(1).eval()
    bn.running_mean.fill_(1.0)
    bn.running_var.fill_(4.0 - bn.eps)  # sqrt(var + eps) = 2
    bn.weight.data.fill_(3.0)
    bn.bias.data.fill_(0.5)
    seq = fuse_conv_bn(nn.Sequential(conv, bn))
    assert isinstance(seq[1], nn.Identity)
    # y = 3 * (2x - 1) / 2 + 0.5 = 3x - 1
    assert seq[0].weight.item() == pytest.approx(3.0)
    assert seq[0].bias.item() == pytest.approx(-1.0)
    x = torch.tensor([0.0, 1.0, 2.0]).view(1, 1, 3, 1, 1)
    assert seq(x).flatten().tolist() == pytest.approx([-1.0, 2.0, 5.0])


def test_cico_outputs_unchanged_and_no_bn_left():
    cfg = copy.deepcopy(Config.fromfile(CONFIG).model)
    torch.manual_seed(0)
    model = random_bn_stats(MODELS.build(cfg)).eval()
    n_bn = count_batch_norms(model)
    # the backbone's 2D and the CMH's 3D (BatchNorm3d) BNs
    assert n_bn > 20
    assert any(isinstance(m, nn.BatchNorm3d) for m in model.modules())
    clip = torch.randn(1, 3, 3, 64, 96)
    with torch.no_grad():
        ref = model._forward(clip)
        fuse_conv_bn(model)
        out = model._forward(clip)
    assert count_batch_norms(model) == 0
    ref_t = [
        t for t in torch.utils._pytree.tree_leaves(ref)
        if isinstance(t, torch.Tensor)
    ]
    out_t = [
        t for t in torch.utils._pytree.tree_leaves(out)
        if isinstance(t, torch.Tensor)
    ]
    assert len(ref_t) == len(out_t) > 10
    for a, b in zip(ref_t, out_t):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)


def test_training_bn_refused_and_prenorm_skipped():
    seq = nn.Sequential(nn.Conv2d(2, 2, 3), nn.BatchNorm2d(2))
    with pytest.raises(RuntimeError, match='model.eval'):
        fuse_conv_bn(seq)
    pre = ConvModule(
        4, 4, 1, norm_cfg=dict(type='BN'), order=('norm', 'conv', 'act'))
    random_bn_stats(pre).eval()
    x = torch.randn(1, 4, 5, 5)
    ref = pre(x)
    fuse_conv_bn(pre)
    assert count_batch_norms(pre) == 1  # left alone: folding would be wrong
    torch.testing.assert_close(pre(x), ref)
