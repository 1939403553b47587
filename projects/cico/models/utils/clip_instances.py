"""Clip-level ground truth.

A training clip reaches the heads as T consecutive frame images, each with
its ``gt_instances`` (``bboxes``, ``labels``, ``masks``, ``instances_ids``).
:func:`build_clip_instances` turns them into one ``InstanceData`` per clip
with one row per object of the clip.
"""
from typing import Any, List, Optional, Sequence

import numpy as np
import torch
from mmdet.utils import InstanceList
from mmengine.structures import InstanceData
from torch import Tensor

from .circumscribed_boxes import circumscribed_boxes


def supplement_missing_boxes(bboxes: Tensor, valid: Tensor) -> Tensor:
    """Give each frame where an object is absent the box of the temporally
    nearest frame where it is present (the earlier frame wins a tie; see
    ``docs/reference_implementation.md#sample-matching``).

    Args:
        bboxes (Tensor): (n, T, 4).
        valid (Tensor): (n, T) bool, at least one True per row.

    Returns:
        Tensor: (n, T, 4).
    """
    n, t = valid.shape
    if n == 0:
        return bboxes.clone()
    frames = torch.arange(t, device=bboxes.device)
    dist = (frames[:, None] - frames[None, :]).abs().float()  # (T, T)
    dist = dist[None].expand(n, t, t).clone()
    dist[~valid[:, None, :].expand(n, t, t)] = float('inf')
    # nearest valid frame for every (object, frame); ties -> earlier frame
    src = dist.argmin(dim=2)  # (n, T)
    return torch.gather(bboxes, 1, src[..., None].expand(n, t, 4))


def _mask_tensor(masks, device) -> Tensor:
    if hasattr(masks, 'to_tensor'):
        return masks.to_tensor(torch.uint8, device)
    return torch.as_tensor(masks, device=device).to(torch.uint8)


def build_clip_instances(frame_gts: Sequence[InstanceData],
                         mask_size: Optional[Sequence[int]] = None,
                         with_masks: bool = True) -> InstanceData:
    """One row per object present in at least one frame of the clip.

    Args:
        frame_gts (list[InstanceData]): the T frames' ``gt_instances``.
        mask_size (tuple, optional): (H, W) of the masks when no frame
            has any (default: read from the frames' masks).
        with_masks (bool): also stack the masks (the CMH needs them, the
            CPH does not).

    Returns:
        InstanceData with ``instances_ids`` (n,), ``labels`` (n,) (majority
        vote over frames, lowest label on ties), ``frame_bboxes`` (n, T, 4)
        (absent frames supplemented by the nearest present frame),
        ``frame_valid`` (n, T) bool, ``bboxes`` (n, 4) circumscribed boxes
        over the clip (Eq. 4), and with ``with_masks`` ``masks``
        (n, T, H, W) uint8 (zeros where absent).
    """
    device = frame_gts[0].bboxes.device if len(frame_gts[0]) else \
        torch.device('cpu')
    ids = sorted({int(i) for g in frame_gts for i in g.instances_ids.tolist()})
    bboxes, valid, votes = _stack_boxes(frame_gts, ids, device)
    clip = InstanceData()
    clip.instances_ids = torch.as_tensor(ids, dtype=torch.long, device=device)
    clip.labels = torch.as_tensor(
        [int(np.bincount(v).argmax()) for v in votes],
        dtype=torch.long,
        device=device)
    clip.frame_bboxes = supplement_missing_boxes(bboxes, valid)
    clip.frame_valid = valid
    clip.bboxes = circumscribed_boxes(bboxes, valid)
    if with_masks:
        clip.masks = _stack_masks(frame_gts, ids, mask_size, device)
    return clip


def _stack_boxes(frame_gts: Sequence[InstanceData], ids: List[int],
                 device: torch.device) -> tuple:
    """(n, T, 4) boxes, (n, T) presence and per-object label votes."""
    t, pos = len(frame_gts), {obj: k for k, obj in enumerate(ids)}
    bboxes = torch.zeros(len(ids), t, 4, device=device)
    valid = torch.zeros(len(ids), t, dtype=torch.bool, device=device)
    votes: List[List[int]] = [[] for _ in ids]
    for fi, g in enumerate(frame_gts):
        rows = [pos[int(i)] for i in g.instances_ids.tolist()]
        if rows:
            rows_t = torch.as_tensor(rows, device=device)
            bboxes[rows_t, fi] = g.bboxes.to(device).float()
            valid[rows_t, fi] = True
        for r, lab in zip(rows, g.labels.tolist()):
            votes[r].append(int(lab))
    return bboxes, valid, votes


def _stack_masks(frame_gts: Sequence[InstanceData], ids: List[int],
                 mask_size: Optional[Sequence[int]],
                 device: torch.device) -> Tensor:
    """(n, T, H, W) uint8 masks, zeros where an object is absent."""
    sizes = [(g.masks.height, g.masks.width) for g in frame_gts
             if 'masks' in g]
    if not sizes and mask_size is None:
        raise ValueError('no frame of the clip has masks: pass mask_size')
    h, w = sizes[0] if sizes else tuple(mask_size[:2])
    pos = {obj: k for k, obj in enumerate(ids)}
    masks = torch.zeros(
        len(ids), len(frame_gts), h, w, dtype=torch.uint8, device=device)
    for fi, g in enumerate(frame_gts):
        rows = [pos[int(i)] for i in g.instances_ids.tolist()]
        if rows:
            masks[torch.as_tensor(rows, device=device),
                  fi] = _mask_tensor(g.masks, device)
    return masks


def batch_clip_instances(batch_gt_instances: InstanceList,
                         batch_img_metas: List[dict],
                         clip_len: int,
                         with_masks: bool = True) -> InstanceList:
    """Group the N*T frames of a batch (frames of a clip adjacent) into
    N clip ground truths (:func:`build_clip_instances`)."""
    num_frames = len(batch_gt_instances)
    if num_frames % clip_len or len(batch_img_metas) != num_frames:
        raise ValueError(
            f'{num_frames} frame ground truths and {len(batch_img_metas)} '
            f'frame metas do not form clips of clip_len={clip_len}')
    clips = []
    for start in range(0, num_frames, clip_len):
        meta = batch_img_metas[start]
        clips.append(
            build_clip_instances(
                batch_gt_instances[start:start + clip_len],
                meta.get('batch_input_shape', meta.get('img_shape')),
                with_masks=with_masks))
    return clips


def clip_ground_truth(frames: Sequence[Any], clip_len: int) -> InstanceList:
    """The clip ground truth of a training batch, built once per step for
    both heads: the N*T frame samples' ``gt_instances`` (frames of a clip
    adjacent) with their masks padded to the batch input, grouped into N
    clips (:func:`batch_clip_instances`, masks included)."""
    gts, metas = [], []
    for frame in frames:
        gt = frame.gt_instances
        meta = frame.metainfo
        padded = InstanceData(**{k: gt.get(k) for k in gt.keys()})
        if 'masks' in gt:
            padded.masks = gt.masks.pad(meta['batch_input_shape'])
        gts.append(padded)
        metas.append(meta)
    return batch_clip_instances(gts, metas, clip_len)
