"""Clip-level online tracker, paper Sec. 3.4 "Clip-level tracking" (Eq. 11).

The detections of clip l are linked to the tracks in memory by::

    s_ij = w_embed * d(E_i, E_j) + w_mask * MIoU(M_i, M_j)
           + w_box * BIoU(B_i, B_j) + w_label * [c_i == c_j]

with ``d = (cos + 1) / 2``. When clip l shares frames with the clip where the
track was last seen (overlap T_o > 0), the IoUs are averaged over those shared
frames and their weights are multiplied by ``overlap_iou_scale`` (the reference
doubles them); otherwise the track's last frame is compared with the
detection's first frame. Assignment is one-to-one (Hungarian on ``s``); a
detection whose best admissible score does not beat the new-track score
starts a new track, so no detection is dropped. A track unmatched for more
than ``num_clips_retain`` clips is forgotten. The detector resets the tracker
when a new video starts (its ``ClipStream`` decides that).

The reference also adds ``0.1 * detection score`` to every column, the
new-track column included (``docs/reference_implementation.md#tracker``):
it cannot change which track a detection takes, only the reference's greedy
order, so the one-to-one assignment here has no use for it
(``docs/departures.md#tracker``). The authors' greedy tracker, which also
keeps outputting lost tracks, is the switch ``ReferenceClipTracker``.
"""
from typing import Dict, Optional

import torch
from mmdet.registry import MODELS
from mmengine.structures import InstanceData
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from ..utils.clip_similarity import clip_mask_iou, frame_box_iou
from .base_clip_tracker import BaseClipTracker, TrackingClip


@MODELS.register_module()
class ClipTracker(BaseClipTracker):
    """Links clip detections into video tracks.

    Args:
        match_weights (dict): ``embed``, ``mask``, ``box``, ``label`` weights
            of the matching score (1.0, 0.5, 0.5, 0.3,
            ``docs/reference_implementation.md#tracker``).
        overlap_iou_scale (float): IoU weights are multiplied by this when
            the IoUs come from shared (overlapping) frames (reference: 2).
        match_thr (float, optional): a detection joins a track only if their
            score exceeds this. ``None`` uses the reference's "new object"
            score: a neutral track with embedding similarity
            ``new_track_embed``, IoUs ``new_track_iou`` and the same class.
        new_track_embed (float): 0.5 (reference).
        new_track_iou (float): 0.3 (reference).
        min_mask_area (int): frames where a mask has at most this many
            pixels are left out of the mask IoU (reference: 2).
        num_clips_retain (int): clips a lost track is remembered
            (reference: max(3, 15 // T) = 5 for T = 3).
        momentums (dict, optional): e.g. ``dict(embeds=0.5)`` averages the
            stored embedding instead of replacing it.
    """

    def __init__(self,
                 match_weights: Dict[str, float] = dict(
                     embed=1.0, mask=0.5, box=0.5, label=0.3),
                 overlap_iou_scale: float = 2.0,
                 match_thr: Optional[float] = None,
                 new_track_embed: float = 0.5,
                 new_track_iou: float = 0.3,
                 min_mask_area: int = 2,
                 num_clips_retain: int = 5,
                 momentums: Optional[dict] = None) -> None:
        # BaseTracker forgets a track when ``now - last >= retain``
        super().__init__(
            momentums=momentums, num_frames_retain=num_clips_retain + 1)
        self.num_clips_retain = num_clips_retain
        unknown = set(match_weights) - {'embed', 'mask', 'box', 'label'}
        if unknown:
            raise KeyError(f'unknown match_weights {sorted(unknown)}')
        self.match_weights = dict(embed=0., mask=0., box=0., label=0.)
        self.match_weights.update(match_weights)
        self.overlap_iou_scale = overlap_iou_scale
        self.match_thr = match_thr
        self.new_track_embed = new_track_embed
        self.new_track_iou = new_track_iou
        self.min_mask_area = min_mask_area

    def update_track(self, id: int, obj: tuple) -> None:
        """``BaseTracker.update_track``, keeping only the latest value of
        each item (memory does not grow with the video)."""
        super().update_track(id, obj)
        for value in self.tracks[id].values():
            if isinstance(value, list):
                del value[:-1]

    def _threshold(self, iou_scale: float) -> float:
        if self.match_thr is not None:
            return self.match_thr
        w = self.match_weights
        return (w['embed'] * self.new_track_embed +
                (w['mask'] + w['box']) * iou_scale * self.new_track_iou +
                w['label'])

    def _iou_terms(self, memo: dict, dets: InstanceData,
                   frame_nums: Tensor) -> tuple:
        """Box and mask IoU (tracks x dets) and whether they came from
        shared frames, per track."""
        n_trk, n_det = len(memo['ids']), len(dets)
        box_iou = dets.scores.new_zeros(n_trk, n_det)
        mask_iou = dets.scores.new_zeros(n_trk, n_det)
        shared_any = torch.zeros(n_trk, dtype=torch.bool)
        for i in range(n_trk):
            prev_nums = memo['frame_nums'][i]
            valid_prev = prev_nums >= 0
            pairs = [(int((prev_nums == f).nonzero()[0, 0]), k)
                     for k, f in enumerate(frame_nums.tolist())
                     if f >= 0 and bool((prev_nums == f).any())]
            if pairs:
                shared_any[i] = True
            else:  # frame to frame: track's last frame vs dets' first frame
                last = int(valid_prev.nonzero()[-1, 0])
                first = int((frame_nums >= 0).nonzero()[0, 0])
                pairs = [(last, first)]
            p_idx = [p for p, _ in pairs]
            d_idx = [d for _, d in pairs]
            tm = memo['masks'][i][p_idx][None]  # (1, S, h, w)
            dm = dets.masks[:, d_idx]  # (n, S, h, w)
            box_iou[i] = self.box_iou(memo['frame_bboxes'][i][p_idx],
                                      dets.frame_bboxes[:, d_idx], tm[0], dm)
            mask_iou[i] = clip_mask_iou(tm, dm, self.min_mask_area)[0]
        return box_iou, mask_iou, shared_any

    def box_iou(self, track_boxes: Tensor, det_boxes: Tensor,
                track_masks: Tensor, det_masks: Tensor) -> Tensor:
        """(n,) box IoU of a track with n detections over the S compared
        frames: the mean over all of them (the masks, (S, h, w) and
        (n, S, h, w), are not used here)."""
        return frame_box_iou(track_boxes, det_boxes)

    def track(self, dets: InstanceData, clip: TrackingClip) -> InstanceData:
        """Assign track ids to the detections of one clip (every detection
        is output; lost tracks are not: ``docs/departures.md#tracker``).

        Args:
            dets (InstanceData): ``embeds`` (n, E), ``labels``, ``scores``,
                ``frame_bboxes`` (n, T, 4), ``masks`` (n, T, h, w) bool.
            clip (TrackingClip): its index in the video and the video
                frame of each clip frame (its mask function is not used).

        Returns:
            InstanceData: ``dets`` with ``instances_id`` (n,) and
            ``is_lost`` (all False).
        """
        clip_index, frame_nums = clip.clip_index, clip.frame_nums
        n = len(dets)
        ids = torch.full((n, ), -1, dtype=torch.long)
        if n and not self.empty:
            memo = self.memo
            w = self.match_weights
            emb = 0.5 * (memo['embeds'] @ dets.embeds.t() + 1)
            box_iou, mask_iou, shared = self._iou_terms(memo, dets, frame_nums)
            scale = torch.where(shared, self.overlap_iou_scale,
                                1.0).to(emb)[:, None]
            same = (memo['labels'][:, None] == dets.labels[None]).to(emb)
            score = (
                w['embed'] * emb + scale *
                (w['mask'] * mask_iou + w['box'] * box_iou) +
                w['label'] * same)
            thr = torch.tensor(
                [self._threshold(float(s)) for s in scale[:, 0]]).to(emb)[:,
                                                                          None]
            margin = (score - thr).cpu()
            rows, cols = linear_sum_assignment(-margin.numpy())
            for r, c in zip(rows.tolist(), cols.tolist()):
                if margin[r, c] > 0:
                    ids[c] = int(memo['ids'][r])
        for k in range(n):
            if ids[k] < 0:
                ids[k] = self.num_tracks
                self.num_tracks += 1
        dets.instances_id = ids.to(dets.labels.device)
        if n:
            self.memorise(dets, clip_index, frame_nums)
        else:
            self.pop_invalid_tracks(clip_index)
        return self.with_lost_rows(dets, None)

    def memorise(self, dets: InstanceData, clip_index: int, frame_nums: Tensor,
                 **extra: Tensor) -> None:
        """Store the clip's detections (with their ``instances_id``) in the
        tracks through ``BaseTracker.update``; ``extra`` items too."""
        self.update(
            ids=dets.instances_id,
            frame_ids=clip_index,
            embeds=dets.embeds,
            labels=dets.labels,
            scores=dets.scores,
            frame_bboxes=dets.frame_bboxes,
            masks=dets.masks,
            frame_nums=frame_nums[None].expand(len(dets),
                                               -1).to(dets.labels.device),
            **extra)
