"""BCE of the box-quality logit against a real-valued target, as the
authors compute it (``docs/training_recipe.md#box-losses``)."""
from typing import Optional

import torch
import torch.nn as nn
from mmdet.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class QualityBCELoss(nn.Module):
    """``-(t log p + (1 - t) log(1 - p))`` with ``p = sigmoid(logit)``, each
    log clamped at -100 (PyTorch's BCE on probabilities), for ANY real
    target t: the authors' quality target is a mean DIoU, which can be
    negative. mmdet's ``CrossEntropyLoss(use_sigmoid=True)`` drops targets
    below 0 as ignored and recent PyTorch's ``binary_cross_entropy`` refuses
    them, so neither gives this loss.

    Args:
        loss_weight (float): weight of the loss (1).
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self,
                logits: Tensor,
                targets: Tensor,
                avg_factor: Optional[float] = None) -> Tensor:
        """
        Args:
            logits (Tensor): (P,) quality logits.
            targets (Tensor): (P,) real targets.
            avg_factor (float, optional): divisor of the sum (default: P).

        Returns:
            Tensor: scalar.
        """
        p = logits.sigmoid()
        loss = -(
            targets * torch.log(p).clamp(min=-100) +
            (1 - targets) * torch.log(1 - p).clamp(min=-100))
        denom = avg_factor if avg_factor is not None else max(len(loss), 1)
        return loss.sum() / denom * self.loss_weight
