"""The authors' clip tracker, a switch beside our one-to-one ``ClipTracker``
(paper Sec. 3.4, Eq. 11, as ``docs/reference_implementation.md#tracker``
describes it; ``docs/departures.md#tracker`` lists how ours differs).

Score of memory entry m for detection d::

    s(d, m) = w_embed * (cos + 1) / 2 + w_score * score_d
              + a * (w_mask * MIoU + w_box * BIoU) + w_label * [same class]

with ``a = overlap_iou_scale`` when the clip shares frames with the last
clip that had detections, else 1. With shared frames, box and mask IoU are
averaged over every pair of equal frame numbers of the two clips (a padding
copy counts as its frame) where both masks have more than ``min_mask_area``
pixels. Without, the box IoU compares the entry's last box with the
detection's first, and the mask IoU the entry's masks regenerated on the
current clip (below) with the detection's, frame by frame. A dummy "new
object" column scores ``w_embed * 0.5 + w_score * score_d + a * (w_mask +
w_box) * iou + w_label`` with ``iou = 0.3``, or ``0.15`` when the
detection's mean box area is below 0.1 of the input image. There is no
threshold: a detection starts a track iff the dummy column is its best.

Assignment is greedy, detections in order of their best score: each takes
its best entry unless an earlier detection took it, in which case it is
dropped (neither matched nor new). Matched entries are overwritten; entries
are never deleted within a video.

Propagation (the authors' "naive tracking"): in a clip with detections,
each entry without a detection in it gets masks regenerated from its stored
mask parameters and circumscribed box on the clip's prototypes, cropped by
that box x1.2 (before the matching when the clips share no frame, after it
otherwise), and is stored back so: its masks become the regenerated ones,
its score is multiplied by ``0.9^T``, its last frame's box becomes its box
in every frame and its circumscribed box, and its frames become the
clip's. An entry unmatched for at most ``max(3, 15 // T)`` clips is output
as stored, after the clip's detections. A clip without detections outputs
nothing and changes nothing.
"""
from typing import Dict, List, Optional

import torch
from mmdet.registry import MODELS
from mmengine.structures import InstanceData
from torch import Tensor

from ..utils.clip_similarity import (clip_mask_iou, counted_frame_box_iou,
                                     frame_box_iou)
from .base_clip_tracker import MaskFn, TrackingClip
from .clip_tracker import ClipTracker


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

    The clip's mask function comes with each :meth:`track` call
    (``TrackingClip.mask_fn``).
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
        lost tracks and their regenerated masks."""
        super().reset()
        self.lost_clips: Dict[int, int] = {}
        self._pending: List[int] = []
        self._lost_probs: Dict[int, Tensor] = {}
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

    def _iou_terms(self, memo: dict, dets: InstanceData,
                   frame_nums: Tensor) -> tuple:
        """Box and mask IoU (entries x dets) and whether they came from
        shared frames, per entry: over every pair of equal frame numbers
        of the entry's clip and this one or, without one, the entry's last
        box against the detections' first and its masks (propagated to this
        clip) against theirs in every frame."""
        n_trk, n_det = len(memo['ids']), len(dets)
        box_iou = dets.scores.new_zeros(n_trk, n_det)
        mask_iou = dets.scores.new_zeros(n_trk, n_det)
        shared = torch.zeros(n_trk, dtype=torch.bool)
        current = frame_nums.tolist()
        for i in range(n_trk):
            masks, boxes = memo['masks'][i], memo['frame_bboxes'][i]
            pairs = [(p, k)
                     for p, f in enumerate(memo['frame_nums'][i].tolist())
                     for k, g in enumerate(current) if 0 <= g == f]
            if pairs:
                shared[i] = True
                p_idx, d_idx = (list(idx) for idx in zip(*pairs))
                tm, dm = masks[p_idx], dets.masks[:, d_idx]
                box_iou[i] = self.box_iou(boxes[p_idx],
                                          dets.frame_bboxes[:, d_idx], tm, dm)
            else:
                last = int((memo['frame_nums'][i] >= 0).nonzero()[-1, 0])
                first = int((frame_nums >= 0).nonzero()[0, 0])
                box_iou[i] = frame_box_iou(boxes[[last]],
                                           dets.frame_bboxes[:, [first]])
                tm, dm = masks, dets.masks
            mask_iou[i] = clip_mask_iou(tm[None], dm, self.min_mask_area)[0]
        return box_iou, mask_iou, shared

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

    def track(self, dets: InstanceData, clip: TrackingClip) -> InstanceData:
        """Assign track ids to the detections of one clip (detections
        whose best entry was taken are dropped), propagate the other
        entries to the clip and append those still output.

        Args:
            dets (InstanceData): as for ``ClipTracker.track``, plus
                ``params`` (n, M) mask parameters and circumscribed
                ``bboxes`` (n, 4); metainfo ``batch_input_shape``.
            clip (TrackingClip): its index in the video, the video frame
                of each clip frame (a padding frame has the index of the
                frame it repeats) and the mask function of its prototypes.

        Returns:
            InstanceData: the kept detections with ``instances_id``, then
            the lost tracks output in this clip (:meth:`_lost_rows`).
        """
        frame_nums, mask_fn = clip.frame_nums, clip.mask_fn
        self._pending, self._clip_len = [], len(frame_nums)
        device = dets.labels.device
        if len(dets) == 0:  # nothing output, nothing updated
            dets.instances_id = torch.zeros(0, dtype=torch.long, device=device)
            return self.with_lost_rows(dets, None)
        entries = self.ids
        if entries and mask_fn is None:
            raise ValueError('ReferenceClipTracker.track propagates its '
                             "entries with the clip's mask function: "
                             'TrackingClip.mask_fn must be given')
        shared = bool(entries) and self._shares_frames(frame_nums)
        if entries and not shared:  # the authors propagate before matching
            self._propagate(entries, mask_fn)
        cols = self.greedy_assign(self.match_scores(dets, frame_nums)).cpu() \
            if entries else torch.zeros(len(dets), dtype=torch.long)
        dets = dets[(cols >= 0).to(device)]
        ids = []
        for col in cols[cols >= 0].tolist():
            if col < len(entries):
                ids.append(entries[col])
            else:
                ids.append(self.num_tracks)
                self.num_tracks += 1
        dets.instances_id = torch.tensor(ids, dtype=torch.long, device=device)
        lost = [i for i in entries if i not in ids]
        if shared:  # ... and after it when the clips share frames
            self._propagate(lost, mask_fn)
        for i in lost:
            self._store(i, 'frame_nums', frame_nums.to(device))
        self._update_memory(dets, clip.clip_index, frame_nums)
        return self.with_lost_rows(dets, self._lost_rows())

    def _shares_frames(self, frame_nums: Tensor) -> bool:
        """Whether the clip shares a frame with the entries' last clip."""
        stored = self.get('frame_nums')
        now = frame_nums[frame_nums >= 0].to(stored.device)
        return bool(torch.isin(stored[stored >= 0], now).any())

    def _store(self, track_id: int, key: str, value: Tensor) -> None:
        """Overwrite the stored ``key`` of a track."""
        if isinstance(self.tracks[track_id][key], list):
            self.tracks[track_id][key][-1] = value[None]
        else:  # a momentum-averaged item
            self.tracks[track_id][key] = value[None]

    def _stored(self, track_id: int, key: str) -> Tensor:
        """The stored ``key`` of a track."""
        value = self.tracks[track_id][key]
        return (value[-1] if isinstance(value, list) else value)[0]

    def _propagate(self, ids: List[int], mask_fn: MaskFn) -> None:
        """The authors' propagation of the entries ``ids`` to this clip:
        masks regenerated from their stored parameters and circumscribed
        boxes on its prototypes (cropped by those boxes x
        ``lost_crop_expand``) replace their masks; their scores (and class
        scores) are multiplied by ``score_decay ** T``; their last frame's
        box becomes their box in every frame and their circumscribed box."""
        if not ids:
            return
        t = self._clip_len
        probs, masks = mask_fn(
            self.get('params', ids), self.get('bboxes', ids),
            self.lost_crop_expand)
        # the box of the last frame (last non-negative frame number)
        last = (self.get('frame_nums', ids) >= 0).cumsum(1).argmax(1)
        rows = torch.arange(len(ids), device=last.device)
        last_box = self.get('frame_bboxes', ids)[rows, last]
        for j, i in enumerate(ids):
            self._store(i, 'masks', masks[j])
            self._store(i, 'frame_bboxes', last_box[j].expand(t, 4).clone())
            self._store(i, 'bboxes', last_box[j])
            for key in ('scores', 'cls_scores'):
                if key in self.tracks[i]:
                    self._store(i, key,
                                self._stored(i, key) * self.score_decay**t)
            self._lost_probs[i] = probs[j]

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
        self._lost_probs = {i: self._lost_probs[i] for i in self._pending}

    def _lost_rows(self) -> Optional[InstanceData]:
        """The lost entries of this ``track`` call that stay in its clip's
        output, as propagated to that clip.

        Returns:
            InstanceData, optional: ``instances_id``, ``labels``,
            ``scores`` (decayed), ``bboxes`` and ``frame_bboxes`` (the
            last frame's box), ``params``, ``mask_probs`` and ``masks``
            (regenerated on the clip's prototypes) and, when the detections
            had them, ``cls_scores`` (decayed); None when none.
        """
        ids, self._pending = self._pending, []
        ids = [
            i for i in ids if self._stored(i, 'scores') > self.min_output_score
        ]
        if not ids:
            return None
        lost = InstanceData(
            instances_id=torch.tensor(
                ids, device=self.get('labels', ids).device),
            mask_probs=torch.stack([self._lost_probs[i] for i in ids]),
            **{
                k: self.get(k, ids)
                for k in ('labels', 'scores', 'bboxes', 'frame_bboxes',
                          'params', 'masks')
            })
        if 'cls_scores' in self.tracks[ids[0]]:
            lost.cls_scores = self.get('cls_scores', ids)
        area = lost.masks.flatten(2).sum(-1)  # (k, T)
        lost = lost[(area > self.min_output_mask_area).any(1)]
        return lost if len(lost) else None
