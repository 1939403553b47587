"""The interface between CiCo and its clip trackers: one call per clip.

A clip tracker gets the clip's detections and a :class:`TrackingClip` (the
clip's place in the video, the video frame of each clip frame, and the mask
head's function that segments stored mask parameters on the clip's
prototypes) and returns every row the clip outputs: the detections it keeps,
each with a track id, then the tracks it still outputs without a detection
in this clip (the authors' propagated lost tracks; none for
``ClipTracker``). The detector resets the tracker when a video starts.
"""
from abc import abstractmethod
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import torch
from mmdet.models.trackers import BaseTracker
from mmengine.structures import InstanceData
from torch import Tensor

# (params (k, M), circumscribed boxes (k, 4) in input pixels, crop_expand)
# -> mask_probs and masks (k, T, h, w) on the current clip's prototypes
MaskFn = Callable[[Tensor, Tensor, float], Tuple[Tensor, Tensor]]

#: the fields of an output row, detection or lost track (``is_lost``: a
#: track output without a detection in the clip)
OUTPUT_KEYS = ('instances_id', 'labels', 'scores', 'bboxes', 'frame_bboxes',
               'mask_probs', 'masks', 'is_lost')


@dataclass(frozen=True)
class TrackingClip:
    """What a tracker is told about the clip it tracks.

    Attributes:
        clip_index (int): index of the clip in its video (a track's age is
            counted in clips).
        frame_nums (Tensor): (T,) frame index in the video of each clip
            frame; a padding frame has the index of the frame it repeats;
            -1 is never compared.
        mask_fn (callable, optional): the masks of stored mask parameters
            on the clip's prototypes (:data:`MaskFn`); None when the clip
            has no prototypes (no detection).
    """
    clip_index: int
    frame_nums: Tensor
    mask_fn: Optional[MaskFn] = None


class BaseClipTracker(BaseTracker):
    """A tracker of clip detections (mmdet's ``BaseTracker`` memory)."""

    @abstractmethod
    def track(self, dets: InstanceData, clip: TrackingClip) -> InstanceData:
        """Link one clip's detections to the video's tracks.

        Args:
            dets (InstanceData): the clip's detections: ``labels``,
                ``scores``, ``embeds`` (n, E), ``frame_bboxes`` (n, T, 4),
                circumscribed ``bboxes`` (n, 4), ``params`` (n, M),
                ``mask_probs`` and ``masks`` (n, T, h, w); metainfo
                ``batch_input_shape``.
            clip (TrackingClip): the clip.

        Returns:
            InstanceData: every output row of the clip with
            ``instances_id`` and ``is_lost``: the kept detections, then the
            tracks output without a detection (at least the
            :data:`OUTPUT_KEYS`).
        """

    @staticmethod
    def with_lost_rows(dets: InstanceData,
                       lost: Optional[InstanceData]) -> InstanceData:
        """``dets`` (``is_lost`` False) followed by the ``lost`` rows
        (``is_lost`` True), both reduced to the :data:`OUTPUT_KEYS` and
        ``cls_scores`` that both have; without lost rows ``dets`` with all
        its fields."""
        dets.is_lost = dets.labels.new_zeros(len(dets), dtype=torch.bool)
        if lost is None or len(lost) == 0:
            return dets
        lost.is_lost = lost.labels.new_ones(len(lost), dtype=torch.bool)
        keys = [
            k for k in OUTPUT_KEYS + ('cls_scores', )
            if k in dets and k in lost
        ]
        out = InstanceData.cat([
            InstanceData(**{k: d.get(k)
                            for k in keys}) for d in (dets, lost)
        ])
        out.set_metainfo(dets.metainfo)
        return out
