"""Tracking embedding loss, paper Eq. 9."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class TrackEmbedLoss(nn.Module):
    """Pairwise loss on the embeddings of the positives of one clip.

    ``d_ij = 0.5 * (cos(E_i, E_j) + 1)``; the loss is
    ``-1/n^2 sum_ij [log d_ij if ID_i = ID_j else log(1 - d_ij)]`` over all
    n x n pairs (diagonal included, as in Eq. 9).

    Args:
        loss_weight (float): lambda_4 of Eq. 10 (5;
            ``docs/reference_implementation.md#losses``).
        eps (float): clamp inside the logs (reference: 1e-10).
    """

    def __init__(self, loss_weight: float = 5.0, eps: float = 1e-10) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.eps = eps

    def forward(self, embeds: Tensor, ids: Tensor) -> Tensor:
        """
        Args:
            embeds (Tensor): (n, E) embeddings of one clip's positives.
            ids (Tensor): (n,) object identity of each positive.

        Returns:
            Tensor: scalar (zero, with graph, when n = 0).
        """
        if embeds.shape[0] == 0:
            return embeds.sum() * 0.
        e = F.normalize(embeds, dim=1)
        d = 0.5 * (e @ e.t() + 1)
        same = ids[:, None] == ids[None, :]
        loss = torch.where(same, -torch.log(d.clamp(min=self.eps)), -torch.log(
            (1 - d).clamp(min=self.eps)))
        return loss.mean() * self.loss_weight
