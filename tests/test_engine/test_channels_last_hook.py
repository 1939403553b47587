"""ChannelsLastHook converts the runner's model before testing;
tools/test.py --channels-last end to end is in
tests/test_tools/test_train_test_tools.py."""
from types import SimpleNamespace

import torch
from torch import nn

from projects.cico.engine import ChannelsLastHook


def test_hook_converts_the_runner_model():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv3d(4, 4, 3))
    ChannelsLastHook().before_test(SimpleNamespace(model=model))
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert model[1].weight.is_contiguous(memory_format=torch.channels_last_3d)
