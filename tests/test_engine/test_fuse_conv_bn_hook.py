"""FuseConvBNHook folds the runner's model (eval mode) before testing;
tools/test.py --fuse-conv-bn end to end is in
tests/test_tools/test_train_test_tools.py."""
from types import SimpleNamespace

from torch import nn

from projects.cico.engine import FuseConvBNHook
from projects.cico.utils.fuse_conv_bn import count_batch_norms
from tests.test_utils.test_fuse_conv_bn import random_bn_stats


def test_hook_folds_the_runner_model():
    model = random_bn_stats(
        nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU()))
    model.train()
    FuseConvBNHook().before_test(SimpleNamespace(model=model))
    assert not model.training
    assert count_batch_norms(model) == 0
