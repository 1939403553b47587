"""The authors' sample matcher: SSD-style forced matches on each frame's
own box (``docs/training_recipe.md#sample-matcher``)."""
from typing import Optional

import torch
from mmdet.models.task_modules.assigners import AssignResult, BaseAssigner
from mmdet.registry import TASK_UTILS
from mmdet.structures.bbox import bbox_overlaps
from mmengine.structures import InstanceData
from torch import Tensor

from ..utils.circumscribed_boxes import window_circumscribed_boxes


@TASK_UTILS.register_module()
class ForcedMatchAssigner(BaseAssigner):
    """Match the anchors of frame j of a clip as the authors' released code
    does for clips of at most 5 frames.

    With O[g, a] the IoU of object g's box in frame j (boxes of frames where
    the object is absent already carry its nearest present box; with
    ``window`` w > 0 the circumscribed box over frames j - w .. j + w, the
    paper's rule, which the authors use for clips longer than 5 frames) and
    anchor a, v[a] = max_g O[g, a] and g*[a] its argmax:

    1. an anchor with IoU > ``pos_iou_thr`` against two or more objects is
       neutralised: v[a] = (``pos_iou_thr`` + ``neg_iou_thr``) / 2 (0.45,
       between the thresholds, so ignored);
    2. forced matches, up to one per object: take the (object, anchor) pair
       of the largest remaining O; if v[a] >= ``force_min_overlap`` or no
       anchor reaches ``pos_iou_thr`` any more, the anchor becomes that
       object's positive (v[a] = 2) and the pair's row and column leave O;
       otherwise the loop stops (the same pair would come back every time);
    3. small-object boost: v of the anchors whose object has a normalised
       box area (by the padded batch input) below ``small_area`` in at
       least ``min(window_frames // 2, 1)`` frames of its window is
       multiplied by ``small_boost``. With one frame per window (clips of
       at most 5 frames) that minimum is 0, so EVERY anchor is boosted
       (effective thresholds 0.5 / 1.05 and 0.4 / 1.05);
    4. v > ``pos_iou_thr`` positive (object g*), v < ``neg_iou_thr``
       negative, otherwise ignored.

    A frame without any object has every anchor ignored, not negative (the
    authors' data pipeline redraws such clips, so they never train on it).

    ``gt_instances`` must hold ``frame_bboxes`` (n, T, 4) and its metainfo
    ``frame_index`` (j) and ``batch_input_shape`` (H, W) (the padded batch,
    for the normalised area).

    Args:
        window (int): half-width of the temporal window of the matched box
            (0: the frame's own box, the authors' rule for T <= 5).
        pos_iou_thr (float): positive above this (0.5).
        neg_iou_thr (float): negative below this (0.4).
        force_min_overlap (float): a forced match needs the anchor's v at
            least this (0.225), unless no anchor is positive any more.
        small_area (float): normalised box area of a small object (0.01).
        small_boost (float): factor on the v of small objects' anchors
            (1.05).
    """

    def __init__(self,
                 window: int = 0,
                 pos_iou_thr: float = 0.5,
                 neg_iou_thr: float = 0.4,
                 force_min_overlap: float = 0.225,
                 small_area: float = 0.01,
                 small_boost: float = 1.05) -> None:
        if not 0 <= neg_iou_thr <= pos_iou_thr <= 1:
            raise ValueError('need 0 <= neg_iou_thr <= pos_iou_thr <= 1, got '
                             f'{neg_iou_thr}, {pos_iou_thr}')
        if window < 0:
            raise ValueError(f'window must be >= 0, got {window}')
        self.window = window
        self.pos_iou_thr = pos_iou_thr
        self.neg_iou_thr = neg_iou_thr
        self.force_min_overlap = force_min_overlap
        self.small_area = small_area
        self.small_boost = small_boost

    def assign(self,
               pred_instances: InstanceData,
               gt_instances: InstanceData,
               gt_instances_ignore: Optional[InstanceData] = None,
               **kwargs) -> AssignResult:
        """Assign ``pred_instances.priors`` (A, 4) to the objects of
        ``gt_instances`` (see the class docstring)."""
        meta = gt_instances.metainfo
        for key in ('frame_index', 'batch_input_shape'):
            if key not in meta:
                raise KeyError(f'ForcedMatchAssigner needs gt_instances '
                               f'metainfo "{key}"')
        priors = pred_instances.priors
        j, frame_boxes = meta['frame_index'], gt_instances.frame_bboxes
        boxes = window_circumscribed_boxes(frame_boxes, self.window)[:, j]
        window = frame_boxes[:, max(j - self.window, 0):j + self.window + 1]
        num_gts, num_priors = len(boxes), len(priors)
        gt_inds = priors.new_zeros(num_priors, dtype=torch.long)
        if num_gts == 0 or num_priors == 0:
            return AssignResult(num_gts, gt_inds - 1,
                                priors.new_zeros(num_priors),
                                gt_inds.new_full((num_priors, ), -1))
        overlaps = bbox_overlaps(boxes, priors)  # (n, A)
        value, argmax = self.match_values(overlaps)
        small = self.small_objects(window, meta['batch_input_shape'])
        value = torch.where(small[argmax], value * self.small_boost, value)
        gt_inds[value < self.neg_iou_thr] = 0
        gt_inds[(value >= self.neg_iou_thr) & (value <= self.pos_iou_thr)] = -1
        pos = value > self.pos_iou_thr
        gt_inds[pos] = argmax[pos] + 1
        labels = gt_inds.new_full((num_priors, ), -1)
        labels[pos] = gt_instances.labels[argmax[pos]]
        return AssignResult(num_gts, gt_inds, value, labels)

    def match_values(self, overlaps: Tensor) -> tuple:
        """Steps 1-2: (A,) match value v and (A,) object g* of every
        anchor from the (n, A) IoUs."""
        value, argmax = overlaps.max(0)
        multi = (overlaps > self.pos_iou_thr).sum(0) >= 2
        value = torch.where(
            multi, value.new_tensor((self.pos_iou_thr + self.neg_iou_thr) / 2),
            value)
        remaining = overlaps.clone()
        for _ in range(len(overlaps)):
            flat = int(remaining.argmax())
            g, a = divmod(flat, remaining.shape[1])
            if not (value[a] >= self.force_min_overlap
                    or value.max() < self.pos_iou_thr):
                break
            remaining[:, a] = -1
            remaining[g, :] = -1
            value[a] = 2.
            argmax[a] = g
        return value, argmax

    def small_objects(self, boxes: Tensor, batch_input_shape: tuple) -> Tensor:
        """(n,) bool: objects whose normalised box area is below
        ``small_area`` in at least ``min(F // 2, 1)`` of their ``F`` window
        frames (``boxes``: (n, F, 4) in pixels)."""
        h, w = batch_input_shape[:2]
        area = ((boxes[..., 2] - boxes[..., 0]) / w) * (
            (boxes[..., 3] - boxes[..., 1]) / h)
        need = min(boxes.shape[1] // 2, 1)
        return (area < self.small_area).sum(1) >= need
