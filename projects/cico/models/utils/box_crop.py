"""Crop regions of clip masks (paper Eq. 5): the circumscribed box,
enlarged, selects the pixels a clip mask keeps in every frame."""
from typing import Tuple

import torch
from torch import Tensor


def expand_boxes(boxes: Tensor, ratio: float,
                 min_size: Tuple[float, float]) -> Tensor:
    """Scale (x1, y1, x2, y2) boxes about their centres by ``ratio``; each
    side at least ``min_size`` (w, h)."""
    ctr = (boxes[:, :2] + boxes[:, 2:]) / 2
    wh = (boxes[:, 2:] - boxes[:, :2]) * ratio
    wh = torch.max(wh, wh.new_tensor(min_size))
    return torch.cat([ctr - wh / 2, ctr + wh / 2], 1)


def box_crop_regions(boxes: Tensor,
                     size: Tuple[int, int],
                     padding: int = 1,
                     truncate: bool = False) -> Tensor:
    """(n, 4) boxes in pixels -> (n, h, w) bool regions with YOLACT's crop
    geometry: columns ``[x1 - padding, x2 + padding)`` and rows
    ``[y1 - padding, y2 + padding)``, clipped to the map (the same
    region as mmdet's ``YOLACTProtonet.crop_single``).

    Args:
        boxes (Tensor): (n, 4) (x1, y1, x2, y2) in pixels of the map.
        size (tuple): (h, w) of the map.
        padding (int): pixels added on every side.
        truncate (bool): bounds clipped to the map and truncated to whole
            pixels before the padding, as the authors' crop does (columns
            ``floor(x1) - 1 <= c <= floor(x2)``); ``False`` keeps float
            bounds (``docs/training_recipe.md#mask-loss``).
    """
    h, w = size
    scale = boxes.new_tensor([w, h, w, h])
    rel = boxes / scale  # the relative form YOLACT's crop works in
    if truncate:
        rel = rel.clamp(0, 1)
    x1, x2 = _sanitize(rel[:, 0], rel[:, 2], w, padding, truncate)
    y1, y2 = _sanitize(rel[:, 1], rel[:, 3], h, padding, truncate)
    cols = torch.arange(w, device=boxes.device, dtype=x1.dtype)
    rows = torch.arange(h, device=boxes.device, dtype=y1.dtype)
    in_x = (cols[None] >= x1[:, None]) & (cols[None] < x2[:, None])
    in_y = (rows[None] >= y1[:, None]) & (rows[None] < y2[:, None])
    return in_y[:, :, None] & in_x[:, None, :]


def _sanitize(lo: Tensor,
              hi: Tensor,
              size: int,
              padding: int,
              truncate: bool = False) -> Tuple[Tensor, Tensor]:
    """Relative -> absolute coordinates (truncated to integers with
    ``truncate``), widened by ``padding`` and clipped to ``[0, size]``;
    ``lo`` is at most ``hi``."""
    lo, hi = lo * size, hi * size
    if truncate:
        lo, hi = lo.trunc(), hi.trunc()
    lo = torch.min(lo, hi)
    return (lo - padding).clamp(min=0), (hi + padding).clamp(max=size)
