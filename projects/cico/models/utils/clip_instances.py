"""Clip-level ground truth and circumscribed boxes (paper Eq. 4).

A training clip arrives as a ``TrackDataSample`` of T ``DetDataSample``s whose
``gt_instances`` carry per-frame ``bboxes``, ``labels``, ``masks`` and
``instances_ids``. :func:`build_clip_instances` turns them into one
``InstanceData`` per clip with one row per object of the clip.
"""
from typing import Optional

import numpy as np
import torch
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.structures import TrackDataSample


def supplement_missing_boxes(bboxes: Tensor, valid: Tensor) -> Tensor:
    """Give each frame where an object is absent the box of the temporally
    nearest frame where it is present (REFERENCE_FACTS sec. 3; the earlier
    frame wins a tie).

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


def circumscribed_boxes(bboxes: Tensor,
                        valid: Optional[Tensor] = None) -> Tensor:
    """Eq. 4: the box enclosing an object's boxes over the frames of a clip.

    Args:
        bboxes (Tensor): (..., T, 4) in (x1, y1, x2, y2).
        valid (Tensor, optional): (..., T) bool; absent frames are skipped.
            A row with no valid frame gives (0, 0, 0, 0).

    Returns:
        Tensor: (..., 4).
    """
    if valid is None:
        return torch.cat(
            [bboxes[..., :2].min(-2)[0], bboxes[..., 2:].max(-2)[0]], -1)
    v = valid[..., None]
    big = torch.finfo(bboxes.dtype).max
    lo = torch.where(v, bboxes[..., :2], bboxes.new_tensor(big)).min(-2)[0]
    hi = torch.where(v, bboxes[..., 2:], bboxes.new_tensor(-big)).max(-2)[0]
    out = torch.cat([lo, hi], -1)
    any_valid = valid.any(-1, keepdim=True)
    return torch.where(any_valid, out, torch.zeros_like(out))


def window_circumscribed_boxes(bboxes: Tensor, window: int) -> Tensor:
    """Per frame t, the circumscribed box over frames ``t-window..t+window``
    of the clip (the sample matcher's previous/current/next rule for
    ``window=1``; ``window=0`` gives each frame's own box).

    Args:
        bboxes (Tensor): (n, T, 4), missing frames already supplemented.
        window (int): half-width w >= 0.

    Returns:
        Tensor: (n, T, 4).
    """
    if window < 0:
        raise ValueError(f'window must be >= 0, got {window}')
    t = bboxes.shape[1]
    out = []
    for i in range(t):
        lo, hi = max(0, i - window), min(t, i + window + 1)
        out.append(circumscribed_boxes(bboxes[:, lo:hi]))
    return torch.stack(out, 1) if out else bboxes.clone()


def build_clip_instances(track_sample: TrackDataSample,
                         with_masks: bool = True) -> InstanceData:
    """One row per object present in at least one frame of the clip.

    Returns:
        InstanceData with ``instances_ids`` (n,), ``labels`` (n,) (majority
        vote over frames, lowest label on ties), ``frame_bboxes`` (n, T, 4)
        (absent frames supplemented by the nearest present frame),
        ``frame_valid`` (n, T) bool, ``bboxes`` (n, 4) circumscribed boxes
        over the clip, and with ``with_masks`` ``masks`` (n, T, H, W) uint8
        (zeros where absent; H, W of the padded masks).
    """
    frames = [track_sample[i] for i in range(len(track_sample))]
    t = len(frames)
    gts = [f.gt_instances for f in frames]
    device = gts[0].bboxes.device if len(gts[0]) else torch.device('cpu')
    ids = sorted({int(i) for g in gts for i in g.instances_ids.tolist()})
    n = len(ids)
    pos = {obj: k for k, obj in enumerate(ids)}
    bboxes = torch.zeros(n, t, 4, device=device)
    valid = torch.zeros(n, t, dtype=torch.bool, device=device)
    votes = [[] for _ in range(n)]
    masks = None
    for fi, g in enumerate(gts):
        if with_masks and masks is None and hasattr(g, 'masks'):
            h, w = g.masks.height, g.masks.width
            masks = torch.zeros(n, t, h, w, dtype=torch.uint8, device=device)
        rows = [pos[int(i)] for i in g.instances_ids.tolist()]
        if not rows:
            continue
        rows_t = torch.as_tensor(rows, device=device)
        bboxes[rows_t, fi] = g.bboxes.to(device).float()
        valid[rows_t, fi] = True
        for r, lab in zip(rows, g.labels.tolist()):
            votes[r].append(int(lab))
        if with_masks:
            m = g.masks
            m = m.to_tensor(torch.uint8, device) if hasattr(
                m, 'to_tensor') else torch.as_tensor(m, device=device)
            masks[rows_t, fi] = m.to(torch.uint8)
    labels = torch.as_tensor(
        [int(np.bincount(v).argmax()) for v in votes],
        dtype=torch.long,
        device=device)
    clip = InstanceData()
    clip.instances_ids = torch.as_tensor(ids, dtype=torch.long, device=device)
    clip.labels = labels
    clip.frame_bboxes = supplement_missing_boxes(bboxes, valid)
    clip.frame_valid = valid
    clip.bboxes = circumscribed_boxes(bboxes, valid)
    if with_masks:
        if masks is None:
            meta = frames[0].metainfo
            h, w = meta.get('batch_input_shape', meta['img_shape'])[:2]
            masks = torch.zeros(n, t, h, w, dtype=torch.uint8, device=device)
        clip.masks = masks
    return clip
