"""Clip-level mask loss, paper Eq. 8, with the reference's details."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class ClipMaskLoss(nn.Module):
    """Binary cross entropy between clip masks and their ground truth.

    For positive p (an anchor of frame ``j_p`` matched to an object):
    ``l_{p,t} = sum_{pixels in crop_p} BCE(sigma(m_{p,t}), g_{p,t}) / area_p``
    for every frame t of the clip, where the crop is the enlarged
    circumscribed box (Eq. 5) and ``area_p`` the area of the circumscribed GT
    box in mask pixels. Frames are weighted by ``decay ** |t - j_p|`` and
    averaged; positives are averaged per clip, clips are averaged.

    Args:
        loss_weight (float): lambda_3 of Eq. 10 (6.125, scaled by min(T, 5);
            ``docs/reference_implementation.md#losses``).
        clip_len_scale (bool): multiply by ``min(T, max_clip_len_scale)``
            as the reference does (6.125 x 3 = 18.375 for T = 3).
        max_clip_len_scale (int): cap of that factor (reference: 5).
        temporal_decay (float): weight base for frames away from the
            anchor's frame (reference: 0.9; 1.0 gives a plain mean).
        outside_crop (str): ``'ignore'``: pixels outside the crop add
            nothing (BCE on logits inside it); ``'zero_probability'``: the
            mask probability is exactly 0 outside the crop and the BCE runs
            on probabilities with PyTorch's log clamp at -100, so an object
            pixel outside the crop costs 100, as in the authors' code.
        avg_over (str): ``'clips_with_positives'``: the clips' mean losses
            are averaged over the clips that have positives;
            ``'all_clips'``: summed and divided by all clips of the batch
            (the authors' normaliser; needs ``num_clips``). Details:
            ``docs/training_recipe.md#mask-loss``.
    """

    def __init__(self,
                 loss_weight: float = 6.125,
                 clip_len_scale: bool = True,
                 max_clip_len_scale: int = 5,
                 temporal_decay: float = 0.9,
                 outside_crop: str = 'ignore',
                 avg_over: str = 'clips_with_positives') -> None:
        super().__init__()
        if outside_crop not in ('ignore', 'zero_probability'):
            raise ValueError("outside_crop must be 'ignore' or "
                             f"'zero_probability', got {outside_crop!r}")
        if avg_over not in ('clips_with_positives', 'all_clips'):
            raise ValueError("avg_over must be 'clips_with_positives' or "
                             f"'all_clips', got {avg_over!r}")
        self.loss_weight = loss_weight
        self.clip_len_scale = clip_len_scale
        self.max_clip_len_scale = max_clip_len_scale
        self.temporal_decay = temporal_decay
        self.outside_crop = outside_crop
        self.avg_over = avg_over

    def forward(self,
                mask_logits: Tensor,
                targets: Tensor,
                crop: Tensor,
                norm_area: Tensor,
                frame_inds: Tensor,
                clip_inds: Optional[Tensor] = None,
                num_clips: Optional[int] = None) -> Tensor:
        """
        Args:
            mask_logits (Tensor): (P, T, h, w) logits of the clip masks.
            targets (Tensor): (P, T, h, w) binary ground truth.
            crop (Tensor): (P, h, w) or (P, T, h, w) bool, pixels kept by
                the crop of Eq. 5.
            norm_area (Tensor): (P,) circumscribed GT box area in mask
                pixels (>= 1).
            frame_inds (Tensor): (P,) frame j_p of each positive's anchor.
            clip_inds (Tensor, optional): (P,) clip of each positive.
            num_clips (int, optional): clips in the batch, with or without
                positives (``avg_over='all_clips'``).

        Returns:
            Tensor: scalar loss (a zero that keeps the graph when P = 0).
        """
        num_pos, t = mask_logits.shape[:2]
        scale = self.loss_weight
        if self.clip_len_scale:
            scale *= min(t, self.max_clip_len_scale)
        if num_pos == 0:
            return mask_logits.sum() * 0.
        if crop.dim() == 3:
            crop = crop[:, None]
        targets = targets.to(mask_logits.dtype)
        if self.outside_crop == 'ignore':
            bce = F.binary_cross_entropy_with_logits(
                mask_logits, targets, reduction='none') * crop
        else:
            bce = F.binary_cross_entropy(
                mask_logits.sigmoid() * crop, targets, reduction='none')
        per_frame = bce.flatten(2).sum(-1) / norm_area.clamp(
            min=1)[:, None]  # (P, T)
        frames = torch.arange(t, device=mask_logits.device)
        weights = self.temporal_decay**(frames[None] -
                                        frame_inds[:, None]).abs().float()
        per_pos = (per_frame * weights).sum(1) / weights.sum(1)
        if clip_inds is None:
            return per_pos.mean() * scale
        clips, inverse = clip_inds.unique(return_inverse=True)
        per_clip = per_pos.new_zeros(len(clips)).index_add_(
            0, inverse, per_pos)
        count = per_pos.new_zeros(len(clips)).index_add_(
            0, inverse, torch.ones_like(per_pos))
        if self.avg_over == 'all_clips':
            if num_clips is None or num_clips < len(clips):
                raise ValueError(f"avg_over='all_clips' needs num_clips >= "
                                 f'{len(clips)} (clips with positives), got '
                                 f'{num_clips}')
            return (per_clip / count).sum() / num_clips * scale
        return (per_clip / count).mean() * scale
