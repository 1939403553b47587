"""Similarities of clip detections (paper Sec. 3.4), shared by clip-level
Fast NMS and the clip tracker.

A clip detection carries T per-frame boxes and a T-frame mask. Two of them
are compared by their per-frame box IoUs, the IoU of their circumscribed
boxes (Eq. 4) and their per-frame mask IoUs (see
``docs/reference_implementation.md#post-processing``).
"""
from typing import Optional, Tuple

from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

from .circumscribed_boxes import circumscribed_boxes


def clip_box_similarity(frame_boxes: Tensor) -> Tensor:
    """``0.5 * mean_t IoU + 0.5 * IoU of the circumscribed boxes``.

    Args:
        frame_boxes (Tensor): (n, T, 4).

    Returns:
        Tensor: (n, n).
    """
    per_frame = bbox_overlaps(
        frame_boxes.transpose(0, 1), frame_boxes.transpose(0, 1))  # (T, n, n)
    circ = circumscribed_boxes(frame_boxes)
    return 0.5 * per_frame.mean(0) + 0.5 * bbox_overlaps(circ, circ)


def frame_box_iou(boxes: Tensor, others: Tensor) -> Tensor:
    """Mean over S frames of the box IoU of one object with each of n.

    Args:
        boxes (Tensor): (S, 4), one object's boxes in S frames.
        others (Tensor): (n, S, 4), n objects' boxes in the same frames.

    Returns:
        Tensor: (n,).
    """
    return bbox_overlaps(
        boxes[None].expand_as(others), others, is_aligned=True).mean(1)


def counted_frame_box_iou(boxes: Tensor, others: Tensor,
                          counted: Tensor) -> Tensor:
    """:func:`frame_box_iou` averaged over the counted frames of each pair
    only (0 for a pair without one).

    Args:
        boxes (Tensor): (S, 4), one object's boxes in S frames.
        others (Tensor): (n, S, 4).
        counted (Tensor): (n, S) bool, the frames that count for each.

    Returns:
        Tensor: (n,).
    """
    iou = bbox_overlaps(boxes[None].expand_as(others), others, is_aligned=True)
    counted = counted.to(iou)
    return (iou * counted).sum(1) / counted.sum(1).clamp(min=1)


def clip_mask_iou(masks_a: Tensor,
                  masks_b: Optional[Tensor] = None,
                  min_area: float = 0.) -> Tensor:
    """Mean over frames of the mask IoU of every pair.

    Frames where either mask has at most ``min_area`` pixels are left out of
    the mean; a pair with no such frame gets 0.

    Args:
        masks_a (Tensor): (n, T, h, w) binary.
        masks_b (Tensor, optional): (m, T, h, w); default ``masks_a``.
        min_area (float): pixel count a mask needs in a frame to count.

    Returns:
        Tensor: (n, m).
    """
    if masks_b is None:
        masks_b = masks_a
    a = masks_a.flatten(2).transpose(0, 1).float()  # (T, n, hw)
    b = masks_b.flatten(2).transpose(0, 1).float()
    inter = a @ b.transpose(1, 2)  # (T, n, m)
    area_a, area_b = a.sum(-1), b.sum(-1)
    union = area_a[:, :, None] + area_b[:, None, :] - inter
    iou = inter / union.clamp(min=1)
    counted = (area_a[:, :, None] > min_area) & (area_b[:, None, :] > min_area)
    num = counted.sum(0)
    return (iou * counted).sum(0) / num.clamp(min=1)


def frame_mask_iou(masks: Tensor,
                   min_area: float = 0.) -> Tuple[Tensor, Tensor]:
    """Per-frame mask IoU of every pair and the frames where both count.

    Args:
        masks (Tensor): (n, T, h, w) binary.
        min_area (float): pixel count a mask needs in a frame to count.

    Returns:
        tuple[Tensor, Tensor]: IoUs (T, n, n) and a bool (T, n, n), true
        where both masks have more than ``min_area`` pixels.
    """
    m = masks.flatten(2).transpose(0, 1).float()  # (T, n, hw)
    inter = m @ m.transpose(1, 2)
    area = m.sum(-1)
    union = area[:, :, None] + area[:, None, :] - inter
    counted = (area[:, :, None] > min_area) & (area[:, None, :] > min_area)
    return inter / union.clamp(min=1), counted


def counted_frame_box_similarity(frame_boxes: Tensor,
                                 counted: Tensor) -> Tensor:
    """(n, n) per-frame box IoU of every pair averaged over the counted
    frames of that pair only (0 for a pair without one).

    Args:
        frame_boxes (Tensor): (n, T, 4).
        counted (Tensor): (T, n, n) bool, e.g. from :func:`frame_mask_iou`.
    """
    boxes = frame_boxes.transpose(0, 1)
    per_frame = bbox_overlaps(boxes, boxes) * counted  # (T, n, n)
    return per_frame.sum(0) / counted.sum(0).clamp(min=1)
