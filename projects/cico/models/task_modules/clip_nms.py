"""Clip-level post-processing: similarities of clip detections and Fast NMS.

Detections of a clip carry T per-frame boxes and a T-frame mask. Two of them
are compared by (REFERENCE_FACTS 6.2)::

    box_sim  = 0.5 * mean_t IoU(B_i^t, B_j^t) + 0.5 * IoU(circ_i, circ_j)
    mask_sim = mean_t IoU(M_i^t, M_j^t)
    sim      = box_weight * box_sim + mask_weight * mask_sim

and suppressed YOLACT-style ("Fast NMS"): a detection is dropped when its
similarity with any higher-ranked detection of the same class exceeds
``iou_thr``, all pairs computed at once with an upper-triangular matrix.
"""
from typing import Optional

from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.structures.bbox import bbox_overlaps
from mmdet.utils import ConfigType


def clip_box_similarity(frame_boxes: Tensor, circ_boxes: Tensor) -> Tensor:
    """``0.5 * mean_t IoU + 0.5 * circumscribed IoU``.

    Args:
        frame_boxes (Tensor): (n, T, 4).
        circ_boxes (Tensor): (n, 4).

    Returns:
        Tensor: (n, n).
    """
    per_frame = bbox_overlaps(frame_boxes.transpose(0, 1),
                              frame_boxes.transpose(0, 1))  # (T, n, n)
    return 0.5 * per_frame.mean(0) + 0.5 * bbox_overlaps(
        circ_boxes, circ_boxes)


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
    counted = (area_a[:, :, None] > min_area) & (area_b[:, None, :] >
                                                 min_area)
    num = counted.sum(0)
    return (iou * counted).sum(0) / num.clamp(min=1)


def clip_fast_nms(dets: InstanceData, cfg: ConfigType) -> InstanceData:
    """Suppress duplicates among the candidates of one clip.

    Args:
        dets (InstanceData): ``scores`` (n,), ``labels`` (n,),
            ``frame_bboxes`` (n, T, 4), ``bboxes`` (n, 4), optionally
            ``mask_probs`` (n, T, h, w) and ``rank_scores`` (n,) (the
            ordering score, default ``scores``).
        cfg (dict): ``iou_thr`` (0.5), ``box_weight`` (0.5), ``mask_weight``
            (0.5; used when masks are present), ``mask_thr`` (0.5),
            ``min_mask_area`` (5 px), ``class_agnostic`` (False),
            ``max_per_clip`` (100).

    Returns:
        InstanceData: the kept detections, ordered by rank score.
    """
    if len(dets) == 0:
        return dets
    rank = dets.rank_scores if 'rank_scores' in dets else dets.scores
    order = rank.argsort(descending=True)
    dets = dets[order]
    box_w = cfg.get('box_weight', 0.5)
    mask_w = cfg.get('mask_weight', 0.5)
    sim = clip_box_similarity(dets.frame_bboxes, dets.bboxes)
    if 'mask_probs' in dets and mask_w > 0:
        binary = dets.mask_probs > cfg.get('mask_thr', 0.5)
        mask_sim = clip_mask_iou(binary, min_area=cfg.get('min_mask_area', 5))
        sim = box_w * sim + mask_w * mask_sim
    else:
        sim = (box_w + mask_w) * sim
    if not cfg.get('class_agnostic', False):
        same = dets.labels[:, None] == dets.labels[None, :]
        sim = sim * same
    sim = sim.triu(diagonal=1)
    keep = sim.max(0)[0] <= cfg.get('iou_thr', 0.5)
    dets = dets[keep]
    return dets[:cfg.get('max_per_clip', 100)]
