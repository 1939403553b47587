"""The authors' per-clip post-processing (paper Sec. 3.4), reference mode.

With ``test_cfg.postprocess=dict(type='ReferencePostProcessor')`` (the
authors' recipe of the main configs) :class:`CiCo` replaces its clip Fast
NMS and mask-area filter by the steps of
``docs/reference_implementation.md#post-processing``:

1. rank the candidates by ``quality x best class score``;
2. filter 1: drop a near-duplicate, i.e. a box similarity (half the mean
   per-frame IoU over all T frames, half the circumscribed-box IoU) above
   0.9 with a higher-ranked candidate, class-agnostic;
3. filter 2: keep a candidate whose box centre lies inside the padded input
   (not the frame: the authors' boxes are relative to it) in at least
   ``max(T // 2, 1)`` frames;
4. masks (the mask head);
5. filter 3: more than 5 mask pixels in some frame and, in some frame, a
   mask area above a tenth of the box area (both as fractions of the
   image);
6. class-aware clip Fast NMS on ``0.25 frame-box IoU + 0.25 circumscribed-
   box IoU + 0.5 mask IoU`` over the frames where both masks have more
   than 5 pixels, the mask IoU forced to 1 when one such frame exceeds 0.9
   (the circumscribed-box IoU with the authors' row-only permutation, see
   :func:`reference_clip_nms`); suppressed above 0.5, kept only with a
   rescored score above 0.1. A detection may survive under several classes;
   the output is ordered by, and reports, the raw class score (no cap).

Our default is :class:`..clip_nms_postprocessor.ClipNMSPostProcessor`;
see ``docs/departures.md#post-processing``.
"""
from typing import Callable, List, Optional, Sequence

import torch
from mmdet.registry import TASK_UTILS
from mmdet.structures.bbox import bbox_overlaps
from mmdet.utils import ConfigType
from mmengine.structures import InstanceData
from torch import Tensor

from ..utils.circumscribed_boxes import circumscribed_boxes
from ..utils.clip_similarity import (clip_box_similarity,
                                     counted_frame_box_similarity,
                                     frame_mask_iou)

# the authors' constants; ``test_cfg.reference`` may override them
REFERENCE_DEFAULTS = dict(
    dup_iou_thr=0.9,  # filter 1
    min_mask_area=5,  # filter 3 and the NMS' counted frames (pixels)
    min_box_ratio=0.1,  # filter 3: mask area / box area
    nms_iou_thr=0.5,
    mask_iou_one=0.9,  # a frame above it sets mask_sim to 1
    score_thr=0.1)  # rescored score required after NMS


def rank_by_rescored(dets: InstanceData) -> InstanceData:
    """Sort by ``rank_scores = quality x scores`` (best first)."""
    quality = dets.quality if 'quality' in dets else torch.ones_like(
        dets.scores)
    dets.rank_scores = dets.scores * quality
    return dets[dets.rank_scores.argsort(descending=True, stable=True)]


def filter_near_duplicates(dets: InstanceData,
                           iou_thr: float = 0.9) -> InstanceData:
    """Filter 1 on ranked ``dets``: drop one whose clip box similarity with
    any higher-ranked one (kept or not) exceeds ``iou_thr``."""
    if len(dets) == 0:
        return dets
    sim = clip_box_similarity(dets.frame_bboxes).triu(diagonal=1)
    return dets[sim.max(0)[0] <= iou_thr]


def filter_centres_outside(dets: InstanceData,
                           img_shape: Sequence[int]) -> InstanceData:
    """Filter 2: keep a detection whose box centre lies strictly inside the
    ``img_shape`` (h, w) frame in at least ``max(T // 2, 1)`` frames."""
    h, w = img_shape[:2]
    boxes = dets.frame_bboxes  # (n, T, 4)
    cx = (boxes[..., 0] + boxes[..., 2]) / 2
    cy = (boxes[..., 1] + boxes[..., 3]) / 2
    inside = (cx > 0) & (cx < w) & (cy > 0) & (cy < h)
    need = max(boxes.shape[1] // 2, 1)
    return dets[inside.sum(1) >= need]


def filter_small_masks(dets: InstanceData,
                       input_shape: Sequence[int],
                       min_area: float = 5,
                       min_box_ratio: float = 0.1) -> InstanceData:
    """Filter 3: keep a detection with more than ``min_area`` mask pixels in
    some frame and, in some frame, ``mask area / box area`` above
    ``min_box_ratio``, the mask area as a fraction of the mask map
    (the mask head's ``masks`` (n, T, h, w)) and the box area as a
    fraction of the ``input_shape`` (H, W) image the boxes live in."""
    masks = dets.masks
    area = masks.flatten(2).sum(-1).float()  # (n, T) pixels
    mask_frac = area / (masks.shape[-2] * masks.shape[-1])
    boxes = dets.frame_bboxes
    box_area = (boxes[..., 2] - boxes[..., 0]).clamp(
        min=0) * (boxes[..., 3] - boxes[..., 1]).clamp(min=0)
    box_frac = box_area / (input_shape[0] * input_shape[1])
    ratio = mask_frac / box_frac.clamp(min=1e-12)
    keep = (area > min_area).any(1) & (ratio > min_box_ratio).any(1)
    return dets[keep]


def reference_similarity_parts(dets: InstanceData,
                               min_area: float = 5,
                               mask_iou_one: float = 0.9) -> tuple:
    """(n, n) each: the per-frame box IoU and the mask IoU, both averaged
    over the frames where the two masks have more than ``min_area``
    pixels (the mask IoU set to 1 when one of those frames exceeds
    ``mask_iou_one``), and the circumscribed-box IoU."""
    iou, counted = frame_mask_iou(dets.masks, min_area)
    mask_sim = (iou * counted).sum(0) / counted.sum(0).clamp(min=1)
    mask_sim[((iou > mask_iou_one) & counted).any(0)] = 1.
    frame_box = counted_frame_box_similarity(dets.frame_bboxes, counted)
    circ = circumscribed_boxes(dets.frame_bboxes)
    return frame_box, bbox_overlaps(circ, circ), mask_sim


def reference_similarity(dets: InstanceData,
                         min_area: float = 5,
                         mask_iou_one: float = 0.9) -> Tensor:
    """(n, n) ``0.25 frame-box IoU + 0.25 circumscribed-box IoU + 0.5 mask
    IoU`` (:func:`reference_similarity_parts`), in candidate order."""
    frame_box, circ, mask_sim = reference_similarity_parts(
        dets, min_area, mask_iou_one)
    return 0.25 * frame_box + 0.25 * circ + 0.5 * mask_sim


def class_scores(dets: InstanceData) -> Tensor:
    """(n, C) class probabilities: ``cls_scores`` or, without them, each
    detection's ``scores`` at its label."""
    if 'cls_scores' in dets:
        return dets.cls_scores
    num = int(dets.labels.max()) + 1 if len(dets) else 1
    scores = dets.scores.new_zeros(len(dets), num)
    scores[torch.arange(len(dets)), dets.labels] = dets.scores
    return scores


def reference_clip_nms(dets: InstanceData,
                       cfg: Optional[dict] = None) -> InstanceData:
    """Class-aware clip Fast NMS of the authors (step 6 of the module
    docstring) on ``dets`` with ``mask_probs``, ``frame_bboxes``,
    ``quality`` and ``cls_scores`` (or ``scores``/``labels``).

    Returns:
        InstanceData: one row per kept (detection, class) pair, ``labels``
        that class, ``scores`` its raw probability, ``rank_scores`` the
        rescored one; ordered by ``scores``.
    """
    cfg = dict(REFERENCE_DEFAULTS, **(cfg or {}))
    raw = class_scores(dets)
    quality = dets.quality if 'quality' in dets else raw.new_ones(len(dets))
    rescored = raw * quality[:, None]  # (n, C)
    classes = (rescored > cfg['score_thr']).any(0).nonzero()[:, 0]
    if len(dets) == 0 or classes.numel() == 0:
        return dets[:0]
    frame_box, circ, mask_sim = reference_similarity_parts(
        dets, cfg['min_mask_area'], cfg['mask_iou_one'])
    cls_rank = rescored[:, classes].t()  # (C', n)
    ranked, order = cls_rank.sort(dim=1, descending=True, stable=True)
    rows, cols = order[:, :, None], order[:, None, :]
    # the authors sort the rows AND columns of the frame-box and mask IoUs
    # by the class ranking, but only the ROWS of the circumscribed-box IoU:
    # entry (i, j) pairs the i-th ranked detection with candidate j
    pair_sim = (0.25 * frame_box[rows, cols] + 0.25 * circ[order] +
                0.5 * mask_sim[rows, cols]).triu(diagonal=1)
    keep = (pair_sim.max(1)[0] <= cfg['nms_iou_thr']) & (
        ranked > cfg['score_thr'])
    cls_pos, rank_pos = keep.nonzero(as_tuple=True)
    inds = order[cls_pos, rank_pos]
    labels = classes[cls_pos]
    out = dets[inds]
    out.labels = labels
    out.scores = raw[inds, labels]
    out.rank_scores = ranked[cls_pos, rank_pos]
    return out[out.scores.argsort(descending=True, stable=True)]


def reference_postprocess(dets: InstanceData,
                          segment: Callable[[InstanceData], InstanceData],
                          img_shape: Sequence[int],
                          input_shape: Sequence[int],
                          cfg: Optional[ConfigType] = None) -> InstanceData:
    """The authors' detection of one clip from its candidates.

    Args:
        dets (InstanceData): candidates (``scores``, ``labels``,
            ``cls_scores``, ``quality``, ``frame_bboxes``, ``bboxes``,
            ``params``, ...).
        segment (callable): adds ``mask_probs`` and ``masks`` (k, T, h, w)
            to detections (the mask head, with its one threshold); not
            called when none is left.
        img_shape (tuple): (h, w) of the frames inside the input (unused
            by the authors' filters; kept for the caller's interface).
        input_shape (tuple): (H, W) of the padded input the boxes and the
            mask maps cover (filters 2 and 3).
        cfg (dict, optional): overrides of :data:`REFERENCE_DEFAULTS`.

    Returns:
        InstanceData: the detections with ``mask_probs`` and ``masks``;
        empty ones without them when nothing survived filters 1 and 2.
    """
    cfg = dict(REFERENCE_DEFAULTS, **(cfg or {}))
    dets = filter_near_duplicates(rank_by_rescored(dets), cfg['dup_iou_thr'])
    dets = filter_centres_outside(dets, input_shape)
    if len(dets) == 0:
        return dets
    dets = filter_small_masks(
        segment(dets), input_shape, cfg['min_mask_area'], cfg['min_box_ratio'])
    return reference_clip_nms(dets, cfg)


@TASK_UTILS.register_module()
class ReferencePostProcessor:
    """The authors' post-processing as a registered post-processor
    (:func:`reference_postprocess`); overrides of its constants
    (:data:`REFERENCE_DEFAULTS`) are read from the detector's
    ``test_cfg.reference`` at every call."""

    def __call__(self, dets: InstanceData, segment: Callable[[InstanceData],
                                                             InstanceData],
                 metas: List[dict], test_cfg: ConfigType) -> InstanceData:
        """:func:`reference_postprocess` of the clip whose frame metainfos
        are ``metas`` (``img_shape``, ``batch_input_shape``)."""
        meta = metas[0]
        return reference_postprocess(
            dets, segment, meta['img_shape'],
            meta.get('batch_input_shape', meta['img_shape']),
            test_cfg.get('reference', None))
