"""Channels-last memory format for a model with 2D and 3D convolutions.

``Module.to(memory_format=torch.channels_last)`` refuses a model that holds
a 5-D weight, and CiCo's CPH towers and CMH are ``Conv3d``. Here 4-D weights
go to ``channels_last`` and 5-D ones to ``channels_last_3d``; the convs then
produce channels-last outputs, which is faster on CPUs with oneDNN (about 9%
for CiCo-Yolact R50 on 2 cores: docs/speed.md). The values are unchanged.
"""
import torch
from torch import nn

FORMATS = {4: torch.channels_last, 5: torch.channels_last_3d}


def to_channels_last(module: nn.Module) -> int:
    """Convert the 4-D and 5-D parameters of ``module`` in place; returns
    how many were converted."""
    converted = 0
    for p in module.parameters():
        if p.dim() in FORMATS:
            p.data = p.data.contiguous(memory_format=FORMATS[p.dim()])
            converted += 1
    return converted
