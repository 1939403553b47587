"""The per-video state of CiCo's streaming test (paper Sec. 3.4).

The test feeds one clip per step, the clips of a video in order. Consecutive
clips share T_o frames, so the per-frame work done for those frames (backbone
and FPN features; class maps when the class tower is 2D) is kept from one
clip to the next instead of being recomputed. :class:`ClipStream` owns that
state: which video and clip it is at, and per-frame caches that hold at most
the current clip's frames, so memory stays flat in the video length.
"""
from typing import Callable, Dict, List, Sequence, Tuple

import torch
from torch import Tensor

from ...utils.clip_layout import ClipLayout

PerFrameFn = Callable[[List[int]], Sequence[Tensor]]


class ClipStream:
    """Video/clip position and per-frame caches of the streaming test.

    Args:
        reuse (bool): keep the per-frame results of the frames shared with
            the previous clip (default). ``False`` recomputes every frame of
            every clip (same results, more work: a check of the reuse).
    """

    def __init__(self, reuse: bool = True) -> None:
        self.reuse = reuse
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new video starts)."""
        self.video_id = None
        self.clip_index = -1
        self._caches: Dict[str, Dict[int, Tuple[Tensor, ...]]] = {}
        self._frame_ids: List[int] = []
        self._is_new: List[bool] = []

    @property
    def is_empty(self) -> bool:
        """No video in progress and nothing cached."""
        return self.video_id is None and not any(self._caches.values())

    def start_clip(self, layout: ClipLayout, metas: List[dict]) -> bool:
        """Enter a clip: its ``layout`` (where it sits in its video) and
        its T frame metainfos (``video_id``, ``frame_id``). Returns True
        when it starts a new video: the state was reset and the caller
        resets what it keeps per video (the tracker).

        A clip continues the stream when it is the next clip of the same
        video. A clip that is neither that nor the first clip of a video
        means clips arrived out of order: an error, since tracks and
        reused features would be silently wrong.
        """
        video_id = metas[0].get('video_id')
        clip_index = layout.clip_index
        continues = (
            self.video_id == video_id and video_id is not None
            and self.clip_index == clip_index - 1)
        if not continues and clip_index > 0:
            raise ValueError(
                f'clip {clip_index} of video {video_id} arrived after clip '
                f'{self.clip_index} of video {self.video_id}: the streaming '
                'test needs the clips of a video in order (use '
                "sampler=dict(type='VideoClipSampler') and batch_size=1)")
        if not continues:
            self.reset()
        self.video_id = video_id
        self.clip_index = clip_index
        self._frame_ids = [m.get('frame_id', k) for k, m in enumerate(metas)]
        self._is_new = list(layout.is_new)
        if not self.reuse:
            self._caches = {}
            self._is_new = [True] * len(metas)
        return not continues

    def end_clip(self, layout: ClipLayout) -> None:
        """Leave a clip; after the video's last clip the state is freed."""
        if layout.is_last:
            self.reset()

    def per_frame(self,
                  name: str,
                  compute: PerFrameFn,
                  every_clip: bool = True) -> Tuple[Tensor]:
        """Per-frame outputs (e.g. FPN levels) of the current clip.

        Frames already computed for the previous clip are reused; every
        other distinct frame is computed once (a padded clip repeats a
        frame) with ``compute(positions)``, which maps positions in the
        clip to outputs with one row per position. With ``every_clip``
        (outputs computed for every clip), a frame that the clip layout
        marks as seen by the previous clip (not ``is_new``) must be
        in the cache; ``every_clip=False`` is for outputs that a clip may
        skip (the CMH's input when a clip has no candidate): such a frame
        is then computed.

        Returns:
            tuple[Tensor]: each (T, ...), the frames in clip order.
        """
        cache = self._caches.setdefault(name, {})
        ids = self._frame_ids
        todo = sorted({f for f in ids if f not in cache})
        for f in todo if every_clip else []:
            if not any(new for g, new in zip(ids, self._is_new) if g == f):
                raise ValueError(
                    f'video {self.video_id} clip {self.clip_index}: frame {f} '
                    'is marked as shared with the previous clip, but the '
                    'stream has no result for it')
        if todo:
            outs = compute([ids.index(f) for f in todo])
            for j, f in enumerate(todo):
                cache[f] = tuple(o[j:j + 1] for o in outs)
        for f in [f for f in cache if f not in ids]:
            cache.pop(f)  # only the current clip's frames are kept
        num = len(cache[ids[0]])
        return tuple(torch.cat([cache[f][k] for f in ids]) for k in range(num))
