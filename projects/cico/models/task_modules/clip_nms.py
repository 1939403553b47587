"""Clip-level Fast NMS (paper Sec. 3.4).

Detections of a clip carry T per-frame boxes and a T-frame mask. Two of them
are compared by (``docs/reference_implementation.md#post-processing``)::

    box_sim  = 0.5 * mean_t IoU(B_i^t, B_j^t) + 0.5 * IoU(circ_i, circ_j)
    mask_sim = mean_t IoU(M_i^t, M_j^t)
    sim      = box_weight * box_sim + mask_weight * mask_sim

and suppressed YOLACT-style ("Fast NMS"): a detection is dropped when its
similarity with any higher-ranked detection of the same class exceeds
``iou_thr``, all pairs computed at once with an upper-triangular matrix.
"""
from mmdet.utils import ConfigType
from mmengine.structures import InstanceData

from ..utils.clip_similarity import clip_box_similarity, clip_mask_iou


def clip_fast_nms(dets: InstanceData, cfg: ConfigType) -> InstanceData:
    """Suppress duplicates among the candidates of one clip.

    Args:
        dets (InstanceData): ``scores`` (n,), ``labels`` (n,),
            ``frame_bboxes`` (n, T, 4), ``bboxes`` (n, 4), optionally
            ``masks`` (n, T, h, w) bool (the mask head's) and
            ``rank_scores`` (n,) (the ordering score, default ``scores``).
        cfg (dict): ``iou_thr`` (0.5), ``box_weight`` (0.5), ``mask_weight``
            (0.5; used when masks are present), ``min_mask_area`` (5 px),
            ``class_agnostic`` (False), ``max_per_clip`` (100).

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
    sim = clip_box_similarity(dets.frame_bboxes)
    if 'masks' in dets and mask_w > 0:
        mask_sim = clip_mask_iou(
            dets.masks, min_area=cfg.get('min_mask_area', 5))
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
