"""The authors' clip tracker, a switch beside our one-to-one ``ClipTracker``
(paper Sec. 3.4, Eq. 11, as ``docs/reference_implementation.md#tracker``
describes it; ``docs/departures.md#tracker`` lists how ours differs).

Score of memory entry m for detection d::

    s(d, m) = w_embed * (cos + 1) / 2 + w_score * score_d
              + a * (w_mask * MIoU + w_box * BIoU) + w_label * [same class]

with ``a = overlap_iou_scale`` when the IoUs come from frames the clips
share, else 1 (``ClipTracker``'s IoU terms). A dummy "new object" column
scores ``w_embed * 0.5 + w_score * score_d + a * (w_mask + w_box) * iou +
w_label`` with ``iou = 0.3``, or ``0.15`` when the detection's mean box
area is below 0.1 of the input image, and ``a`` from whether the clip
overlaps the memory's last clip. There is no threshold: a detection starts
a track iff the dummy column is its best.

Assignment is greedy, detections in order of their best score: each takes
its best entry unless an earlier detection took it, in which case it is
dropped (neither matched nor new). Matched entries are overwritten; entries
are never deleted within a video. An entry unmatched in a clip stays in the
output for up to ``max(3, 15 // T)`` clips since it was last matched, with
its score decayed by ``0.9^T`` per clip and its masks regenerated from its
stored mask parameters (and circumscribed box) on the current clip's
prototypes, cropped by that box x1.2 (the detector regenerates them, see
:meth:`ReferenceClipTracker.lost_tracks_to_output`). A clip without
detections outputs nothing and changes nothing.

Not reproduced: the authors also write the regenerated masks and frozen
boxes of lost entries back to the memory and, without overlap, compare a
detection with an entry's masks regenerated on the current clip; here the
IoUs of an entry always use its last matched masks and boxes.
"""
from typing import Dict, List, Optional

import torch
from mmdet.registry import MODELS
from mmengine.structures import InstanceData
from torch import Tensor

from ..utils.clip_similarity import counted_frame_box_iou
from .clip_tracker import ClipTracker, MaskFn


@MODELS.register_module()
class ReferenceClipTracker(ClipTracker):
    """Greedy clip tracker with propagated lost tracks (the authors').

    Args:
        match_weights (dict): ``embed``, ``mask``, ``box``, ``label``
            weights (1.0, 0.5, 0.5, 0.3).
        score_weight (float): weight of the detection score, in every
            column (0.1): it only orders the greedy assignment.
        overlap_iou_scale (float): IoU weights are multiplied by this when
            the IoUs come from shared frames (2).
        new_track_embed (float): embedding term of the dummy column (0.5).
        new_track_iou (float): its box and mask IoU (0.3).
        small_new_track_iou (float): the same for a small detection (0.15).
        small_area_ratio (float): a detection is small when its mean box
            area is below this fraction of the input image (0.1). The
            detections' metainfo ``batch_input_shape`` gives the image.
        min_mask_area (int): frames where a mask has at most this many
            pixels are left out of the mask IoU (2).
        num_clips_output (int, optional): clips a lost track stays in the
            output; ``None``: ``max(3, 15 // T)``.
        score_decay (float): per frame; a lost track's score is multiplied
            by ``score_decay ** T`` per clip (0.9).
        min_output_score (float): a lost track is output only with a
            decayed score above this (0.1) ...
        min_output_mask_area (int): ... and a regenerated mask with more
            pixels than this in at least one frame (3).
        lost_crop_expand (float): crop of the regenerated masks: the stored
            circumscribed box scaled by this (1.2).
    """

    def __init__(self,
                 match_weights: Dict[str, float] = dict(
                     embed=1.0, mask=0.5, box=0.5, label=0.3),
                 score_weight: float = 0.1,
                 overlap_iou_scale: float = 2.0,
                 new_track_embed: float = 0.5,
                 new_track_iou: float = 0.3,
                 small_new_track_iou: float = 0.15,
                 small_area_ratio: float = 0.1,
                 min_mask_area: int = 2,
                 num_clips_output: Optional[int] = None,
                 score_decay: float = 0.9,
                 min_output_score: float = 0.1,
                 min_output_mask_area: int = 3,
                 lost_crop_expand: float = 1.2) -> None:
        super().__init__(
            match_weights=match_weights,
            overlap_iou_scale=overlap_iou_scale,
            new_track_embed=new_track_embed,
            new_track_iou=new_track_iou,
            min_mask_area=min_mask_area)
        self.score_weight = score_weight
        self.small_new_track_iou = small_new_track_iou
        self.small_area_ratio = small_area_ratio
        self.num_clips_output = num_clips_output
        self.score_decay = score_decay
        self.min_output_score = min_output_score
        self.min_output_mask_area = min_output_mask_area
        self.lost_crop_expand = lost_crop_expand

    def reset(self) -> None:
        """Forget the video: tracks, their lost-clip counts, the pending
        lost tracks."""
        super().reset()
        self.lost_clips: Dict[int, int] = {}
        self._pending: List[int] = []
        self._clip_len = 0

    def pop_invalid_tracks(self, frame_id: int) -> None:
        """Entries are never deleted within a video."""

    def clips_to_output(self, clip_len: int) -> int:
        """Clips a lost track stays in the output: ``max(3, 15 // T)``."""
        if self.num_clips_output is not None:
            return self.num_clips_output
        return max(3, 15 // clip_len)

    def box_iou(self, track_boxes: Tensor, det_boxes: Tensor,
                track_masks: Tensor, det_masks: Tensor) -> Tensor:
        """(n,) box IoU averaged only over the compared frames where both
        masks have more than ``min_mask_area`` pixels, as the authors do
        (0 without such a frame: the detection then tends to start a new
        track)."""
        area_t = track_masks.flatten(1).sum(1)  # (S,)
        area_d = det_masks.flatten(2).sum(2)  # (n, S)
        counted = (area_t[None] > self.min_mask_area) & (
            area_d > self.min_mask_area)
        return counted_frame_box_iou(track_boxes, det_boxes, counted)

    def new_object_scores(self, dets: InstanceData, overlap: bool) -> Tensor:
        """(n,) scores of the dummy "new object" column."""
        if 'batch_input_shape' not in dets.metainfo:
            raise ValueError('ReferenceClipTracker needs the detections\' '
                             'metainfo batch_input_shape (the input image '
                             'their boxes are in) for the small-object rule')
        h, w = dets.metainfo['batch_input_shape'][:2]
        fb = dets.frame_bboxes
        area = ((fb[..., 2] - fb[..., 0]).clamp(min=0) *
                (fb[..., 3] - fb[..., 1]).clamp(min=0)).mean(1)
        small = area < self.small_area_ratio * h * w
        iou = torch.where(small, self.small_new_track_iou,
                          self.new_track_iou).to(dets.scores)
        mw = self.match_weights
        scale = self.overlap_iou_scale if overlap else 1.0
        return (mw['embed'] * self.new_track_embed +
                self.score_weight * dets.scores + scale *
                (mw['mask'] + mw['box']) * iou + mw['label'])

    def match_scores(self, dets: InstanceData, frame_nums: Tensor) -> Tensor:
        """(n, N + 1) scores of the detections against the N memory
        entries (in ``self.memo`` order) and the dummy column (last)."""
        memo, mw = self.memo, self.match_weights
        emb = 0.5 * (dets.embeds @ memo['embeds'].t() + 1)  # (n, N)
        box_iou, mask_iou, shared = self._iou_terms(memo, dets, frame_nums)
        scale = torch.where(shared, self.overlap_iou_scale, 1.0).to(emb)[None]
        same = (dets.labels[:, None] == memo['labels'][None]).to(emb)
        scores = (
            mw['embed'] * emb + scale *
            (mw['mask'] * mask_iou.t() + mw['box'] * box_iou.t()) +
            mw['label'] * same + self.score_weight * dets.scores[:, None])
        new = self.new_object_scores(dets, bool(shared.any()))
        return torch.cat([scores, new[:, None]], 1)

    @staticmethod
    def greedy_assign(scores: Tensor) -> Tensor:
        """Column of each detection (row) of ``scores`` (n, N + 1): in order
        of their best score, each takes its best column unless it is an
        entry (< N) already taken; then it gets -1 (dropped). The last
        column (new object) is never taken."""
        best, cols = scores.max(1)
        out = torch.full_like(cols, -1)
        num_entries = scores.shape[1] - 1
        taken = set()
        order = torch.argsort(best, descending=True, stable=True)
        for k in order.tolist():
            col = int(cols[k])
            if col < num_entries and col in taken:
                continue
            taken.add(col)
            out[k] = col
        return out

    def track(self, dets: InstanceData, clip_index: int,
              frame_nums: Tensor) -> InstanceData:
        """Assign track ids to the detections of one clip; detections
        whose best entry was taken are dropped. Records the lost tracks of
        this clip for :meth:`lost_tracks_to_output`.

        Args:
            dets (InstanceData): as for ``ClipTracker.track``, plus
                ``params`` (n, M) mask parameters and circumscribed
                ``bboxes`` (n, 4); metainfo ``batch_input_shape``.
            clip_index (int): index of the clip in its video.
            frame_nums (Tensor): (T,) frame index of each clip frame in the
                video, -1 for padding frames.

        Returns:
            InstanceData: the kept detections with ``instances_id``.
        """
        self._pending, self._clip_len = [], len(frame_nums)
        device = dets.labels.device
        if len(dets) == 0:  # nothing output, nothing updated
            dets.instances_id = torch.zeros(0, dtype=torch.long, device=device)
            return dets
        entries = self.ids
        cols = torch.zeros(len(dets), dtype=torch.long) if self.empty \
            else self.greedy_assign(self.match_scores(dets, frame_nums)).cpu()
        dets = dets[(cols >= 0).to(device)]
        ids = []
        for col in cols[cols >= 0].tolist():
            if col < len(entries):
                ids.append(entries[col])
            else:
                ids.append(self.num_tracks)
                self.num_tracks += 1
        dets.instances_id = torch.tensor(ids, dtype=torch.long, device=device)
        self._update_memory(dets, clip_index, frame_nums)
        return dets

    def _update_memory(self, dets: InstanceData, clip_index: int,
                       frame_nums: Tensor) -> None:
        """Overwrite the matched entries, add the new ones, age the others
        and record those still to be output."""
        extra = dict(bboxes=dets.bboxes, params=dets.params)
        if 'cls_scores' in dets:  # for track-level labels
            extra['cls_scores'] = dets.cls_scores
        self.memorise(dets, clip_index, frame_nums, **extra)
        current = set(dets.instances_id.tolist())
        limit = self.clips_to_output(self._clip_len)
        for i in self.ids:
            self.lost_clips[i] = 0 if i in current else \
                self.lost_clips[i] + 1
            if 0 < self.lost_clips[i] <= limit:
                self._pending.append(i)

    def lost_tracks_to_output(self, mask_fn: MaskFn) -> Optional[InstanceData]:
        """The lost tracks of the last ``track`` call that stay in its
        clip's output (once per clip).

        Args:
            mask_fn (callable): ``(params (k, M), bboxes (k, 4), crop_expand)
                -> (mask_probs, masks)``, each (k, T, h, w): the masks of
                the stored parameters on the current clip's prototypes.

        Returns:
            InstanceData, optional: ``instances_id``, ``labels``,
            ``scores`` (decayed), ``bboxes`` (stored circumscribed),
            ``frame_bboxes`` (the last frame's box repeated T times),
            ``params``, ``mask_probs``, ``masks`` and, when the
            detections had them, ``cls_scores`` (decayed); None when none.
        """
        ids, self._pending = self._pending, []
        if not ids:
            return None
        t = self._clip_len
        age = torch.tensor([float(self.lost_clips[i]) for i in ids])
        scores = self.get('scores', ids)
        decay = self.score_decay**(t * age.to(scores))
        scores = scores * decay
        keep = (scores > self.min_output_score).nonzero()[:, 0].tolist()
        if not keep:
            return None
        ids, scores, decay = [ids[k] for k in keep], scores[keep], decay[keep]
        # the box of the last real frame (last non-negative frame number)
        last = (self.get('frame_nums', ids) >= 0).cumsum(1).argmax(1)
        rows = torch.arange(len(ids), device=last.device)
        last_box = self.get('frame_bboxes', ids)[rows, last]
        lost = InstanceData(
            instances_id=torch.tensor(ids, device=scores.device),
            labels=self.get('labels', ids),
            scores=scores,
            bboxes=self.get('bboxes', ids),
            frame_bboxes=last_box[:, None].repeat(1, t, 1),
            params=self.get('params', ids))
        if 'cls_scores' in self.tracks[ids[0]]:  # decayed as the scores
            lost.cls_scores = self.get('cls_scores', ids) * decay[:, None]
        lost.mask_probs, lost.masks = mask_fn(lost.params, lost.bboxes,
                                              self.lost_crop_expand)
        area = lost.masks.flatten(2).sum(-1)  # (k, T)
        lost = lost[(area > self.min_output_mask_area).any(1)]
        return lost if len(lost) else None
