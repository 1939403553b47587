"""Clip masks from clip prototypes and per-instance mask parameters.

``ClipLincombMask`` is CiCo-Yolact's FCN (paper Eq. 5): one 1x1x1 dynamic
conv without bias, i.e. the linear combination ``P_t . theta`` for every frame
t of the clip. The crop by the circumscribed box is applied by the mask head,
which owns the box geometry. CiCo-CondInst's dynamic FCN (Eq. 6) lives beside
it and shares the interface.
"""
import torch.nn as nn
from torch import Tensor

from mmdet.registry import MODELS


@MODELS.register_module()
class ClipLincombMask(nn.Module):
    """Eq. 5 without the crop: ``logits[i, t] = sum_k theta_ik P[k, t]``.

    Args:
        num_protos (int): K, prototypes (= mask parameters per instance).
    """

    def __init__(self, num_protos: int = 32) -> None:
        super().__init__()
        self.num_protos = num_protos

    @property
    def num_params(self) -> int:
        """Mask parameters the CPH must predict per anchor."""
        return self.num_protos

    def forward(self, protos: Tensor, params: Tensor,
                boxes: Tensor = None) -> Tensor:
        """
        Args:
            protos (Tensor): (K, T, h, w) prototypes of one clip.
            params (Tensor): (n, K) coefficients.
            boxes (Tensor, optional): unused (interface of the dynamic FCN).

        Returns:
            Tensor: (n, T, h, w) mask logits.
        """
        k, t, h, w = protos.shape
        assert params.shape[1] == k == self.num_protos, (
            f'{params.shape[1]} coefficients for {k} prototypes '
            f'(num_protos={self.num_protos})')
        return (params @ protos.reshape(k, -1)).view(-1, t, h, w)
