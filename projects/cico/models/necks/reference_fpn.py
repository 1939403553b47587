"""The authors' FPN, for their checkpoints (reference mode).

The FPN of the authors' release differs from mmdet's ``FPN`` in ways no
``FPN`` option expresses (``docs/reference_implementation.md#architecture``):
a ReLU on the P3-P5 outputs, P6 computed by a stride-2 conv from the
*rectified* P5, and P7 by a stride-2 conv from P6 without a ReLU in between
(``relu_before_extra_convs`` would also rectify P6 before the P7 conv, and
``act_cfg`` would also hit the laterals and P6/P7). :class:`ReferenceFPN`
keeps mmdet's modules and parameter names (``lateral_convs.i.conv``,
``fpn_convs.i.conv``) and only overrides the forward pass, so checkpoints
converted by ``tools/model_converters/cico_official_to_mmdet.py`` load into
it strictly.
"""
from typing import List, Tuple

import torch.nn.functional as F
from mmdet.models.necks import FPN
from mmdet.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class ReferenceFPN(FPN):
    """mmdet's ``FPN`` with the authors' output ReLU and P6/P7 sources.

    Laterals and the top-down path are mmdet's (use
    ``upsample_cfg=dict(mode='bilinear', align_corners=False)``: the
    lateral above is resized to the size of the one below). Outputs:
    ``P_i = ReLU(fpn_conv_i(merged lateral_i))`` for the backbone levels,
    then ``P6 = fpn_conv(P5)`` (P5 after its ReLU) and
    ``P7 = fpn_conv(P6)`` (no ReLU anywhere on P6 and P7).

    Args:
        in_channels, out_channels, num_outs, start_level, end_level,
        upsample_cfg, init_cfg: as mmdet's ``FPN``.
        add_extra_convs (str): must be ``'on_output'`` (the extra convs read
            the previous output, so P6 has ``out_channels`` inputs).
        relu_before_extra_convs (bool): must be ``False``; the ReLU on P5 is
            built in and P6 is never rectified.
        **kwargs: other ``FPN`` arguments; ``act_cfg`` and ``norm_cfg`` must
            stay ``None`` (the authors' convs have a bias and no norm).
    """

    def __init__(self,
                 in_channels: List[int],
                 out_channels: int,
                 num_outs: int,
                 start_level: int = 0,
                 add_extra_convs: str = 'on_output',
                 relu_before_extra_convs: bool = False,
                 **kwargs) -> None:
        if add_extra_convs != 'on_output':
            raise ValueError(
                "ReferenceFPN builds P6 from P5: add_extra_convs must be "
                f"'on_output', got {add_extra_convs!r}")
        if relu_before_extra_convs:
            raise ValueError(
                'ReferenceFPN rectifies P3-P5 itself and never P6: '
                'relu_before_extra_convs must be False')
        for key in ('act_cfg', 'norm_cfg', 'conv_cfg'):
            if kwargs.get(key) is not None:
                raise ValueError(f'ReferenceFPN takes no {key} (the '
                                 "authors' FPN convs are plain convs)")
        super().__init__(
            in_channels,
            out_channels,
            num_outs,
            start_level=start_level,
            add_extra_convs=add_extra_convs,
            relu_before_extra_convs=False,
            **kwargs)

    def forward(self, inputs: Tuple[Tensor]) -> Tuple[Tensor]:
        """Backbone levels -> ``num_outs`` maps (P3-P7 for C3-C5 inputs)."""
        assert len(inputs) == len(self.in_channels)
        laterals = [
            conv(inputs[i + self.start_level])
            for i, conv in enumerate(self.lateral_convs)
        ]
        for i in range(len(laterals) - 1, 0, -1):
            if 'scale_factor' in self.upsample_cfg:
                up = F.interpolate(laterals[i], **self.upsample_cfg)
            else:
                up = F.interpolate(
                    laterals[i],
                    size=laterals[i - 1].shape[2:],
                    **self.upsample_cfg)
            laterals[i - 1] = laterals[i - 1] + up
        outs = [
            F.relu(self.fpn_convs[i](lateral))
            for i, lateral in enumerate(laterals)
        ]
        for i in range(len(laterals), self.num_outs):
            outs.append(self.fpn_convs[i](outs[-1]))
        return tuple(outs)
