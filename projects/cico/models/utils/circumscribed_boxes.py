"""Circumscribed boxes, paper Eq. 4.

The circumscribed box of an object over a clip is the smallest box that
encloses its boxes in every frame of the clip. The sample matcher (Sec. 3.3)
uses it over a window of frames, the CMH crops clip masks with it (Eq. 5),
and clip-level NMS and the tracker compare detections with it (Sec. 3.4).
"""
from typing import Optional

import torch
from torch import Tensor


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
    ``window=1``, Sec. 3.3; ``window=0`` gives each frame's own box).

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
