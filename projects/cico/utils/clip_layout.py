"""The layout of test clips: which frames a clip holds, what it emits.

One place for the test-clip schedule that the dataset
(``VISDataset.get_clip_info``), the streaming inferencer
(``VideoInferencer``) and the benchmark (``tools/analysis_tools/
benchmark.py``) share, so they cannot drift apart.

Clip ``c`` of a video covers frames ``[c*(T-T_o), c*(T-T_o)+T)`` (T =
``clip_len``, T_o = ``clip_overlap``), cut at the end of the video. A clip
emits the frames no later clip will cover: its first ``T-T_o`` frames, or
all of its real frames when it is the last clip. A frame is *new* when the
previous clip did not hold it (its backbone features are computed in this
clip; the other frames reuse the previous clip's features).

How a video ends is the *schedule* (:data:`CLIP_SCHEDULES`):

- ``'project'`` (default): the last clip is the first that reaches the end
  of the video, ``ceil((L-T)/(T-T_o)) + 1`` clips for L frames; a short
  last clip is padded by repeating its last real frame. For L = 7, T = 3,
  T_o = 1: ``[0,1,2] [2,3,4] [4,5,6]``, the last emitting all three.
- ``'authors'`` (their test loop,
  ``docs/reference_implementation.md#post-processing``): ``ceil(L/(T-T_o))``
  clips, each emitting only its first ``T-T_o`` frames, so the last clip
  holds at most ``T-T_o`` real frames; a short clip is padded by cycling
  its own real frames (``[5,6] -> [5,6,5]``, ``[6] -> [6,6,6]``). For the
  same video: ``[0,1,2] [2,3,4] [4,5,6] [6,6,6]``, the last emitting frame
  6 alone. With ``T_o >= 2`` a clip before the last may be padded too.

Padding frames are never new nor emitted: their real copy in the clip is.

Every frame of a test clip carries, in its metainfo,
:func:`clip_frame_metainfo`: ``clip_index``, ``is_last_clip``,
``is_new_frame``, ``is_output_frame``, ``is_pad_frame``, ``video_length``
(T) and ``ori_video_length`` (frames of the whole video, -1 when unknown
while streaming). ``PackClipInputs`` packs :data:`CLIP_META_KEYS` on top of
mmdet's default meta keys (which hold the two lengths).
"""
import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

#: Per-frame meta keys of a test clip, packed by ``PackClipInputs`` in
#: addition to mmdet's ``PackTrackInputs`` defaults.
CLIP_META_KEYS = ('clip_index', 'is_last_clip', 'is_new_frame',
                  'is_output_frame', 'is_pad_frame')

#: How a video's test clips end (module docstring): the project's or the
#: authors' (``VISDataset(clip_schedule=...)``).
CLIP_SCHEDULES = ('project', 'authors')


@dataclass(frozen=True)
class ClipLayout:
    """Frames and flags of one test clip (one entry per clip frame).

    Attributes:
        clip_index (int): index of the clip in its video.
        frame_inds (list[int]): the T frame indices in the video; a padded
            clip repeats its last real frame (``'project'`` schedule) or
            cycles its real frames (``'authors'``).
        is_new (list[bool]): the previous clip did not hold the frame (its
            backbone features must be computed).
        is_output (list[bool]): the frame is emitted after this clip.
        is_pad (list[bool]): a repeated frame filling a short clip.
        is_last (bool): the last clip of the video.
    """
    clip_index: int
    frame_inds: List[int]
    is_new: List[bool]
    is_output: List[bool]
    is_pad: List[bool]
    is_last: bool

    @property
    def clip_len(self) -> int:
        """T, the number of frames of the clip (padding included)."""
        return len(self.frame_inds)


def default_clip_overlap(clip_len: int) -> int:
    """T_o when none is given: the paper's 1, or 0 for frame-by-frame T=1."""
    return min(1, clip_len - 1)


def resolve_clip_overlap(clip_len: int,
                         clip_overlap: Optional[int] = None) -> int:
    """``clip_overlap``, or :func:`default_clip_overlap` when it is None.

    Raises:
        ValueError: unless ``0 <= clip_overlap < clip_len``.
    """
    if clip_overlap is None:
        clip_overlap = default_clip_overlap(clip_len)
    if not 0 <= clip_overlap < clip_len:
        raise ValueError('clip_overlap must satisfy 0 <= clip_overlap < '
                         f'clip_len, got {clip_overlap} and {clip_len}')
    return clip_overlap


def check_clip_schedule(schedule: str) -> str:
    """``schedule`` when it is one of :data:`CLIP_SCHEDULES`.

    Raises:
        ValueError: for any other value.
    """
    if schedule not in CLIP_SCHEDULES:
        raise ValueError(f'clip_schedule must be one of {CLIP_SCHEDULES}, '
                         f'got {schedule!r}')
    return schedule


def num_clips(length: int,
              clip_len: int,
              clip_overlap: int,
              schedule: str = 'project') -> int:
    """Number of test clips of a video with ``length`` frames."""
    step = clip_len - clip_overlap
    if check_clip_schedule(schedule) == 'authors':
        return max(1, math.ceil(length / step))
    return max(0, math.ceil((length - clip_len) / step)) + 1


def _check_stream_clip(clip_len: int, clip_overlap: int, num_real: int,
                       is_last: bool, schedule: str) -> None:
    """Raise ValueError unless a clip of ``num_real`` real frames can be
    (or not be, ``is_last``) the last clip of the schedule."""
    if not 0 <= clip_overlap < clip_len:
        raise ValueError(f'need 0 <= clip_overlap ({clip_overlap}) < '
                         f'clip_len ({clip_len})')
    if not 1 <= num_real <= clip_len:
        raise ValueError(f'a clip of {clip_len} frames holds 1..{clip_len} '
                         f'real frames, got {num_real}')
    step = clip_len - clip_overlap
    if check_clip_schedule(schedule) == 'project':
        if num_real < clip_len and not is_last:
            raise ValueError('only the last clip can be padded')
    elif is_last and num_real > step:
        raise ValueError(f"the last clip of the 'authors' schedule holds at "
                         f'most T - T_o = {step} real frames, got {num_real}')
    elif not is_last and num_real < min(clip_len, step + 1):
        raise ValueError(f"a clip before the last of the 'authors' schedule "
                         f'holds more than T - T_o = {step} real frames, got '
                         f'{num_real}')


def stream_clip(clip_index: int,
                clip_len: int,
                clip_overlap: int,
                num_real: int,
                is_last: bool,
                schedule: str = 'project') -> ClipLayout:
    """Layout of clip ``clip_index`` when the video length is unknown.

    A streaming reader knows only how many real frames the clip holds and
    whether it is the last clip (:func:`stream_clip_is_last`).

    Args:
        clip_index (int): index of the clip in its video.
        clip_len (int): T.
        clip_overlap (int): T_o, ``0 <= T_o < T``.
        num_real (int): real (not padded) frames of the clip, ``1..T``;
            fewer than T only for the last clip (``'project'``), or at
            most ``T - T_o`` exactly for the last clip (``'authors'``).
        is_last (bool): whether this is the last clip of the video.
        schedule (str): one of :data:`CLIP_SCHEDULES`.

    Returns:
        ClipLayout: the clip's frames and flags.
    """
    _check_stream_clip(clip_len, clip_overlap, num_real, is_last, schedule)
    step = clip_len - clip_overlap
    start = clip_index * step
    cycle = schedule == 'authors'
    frame_inds, is_new, is_output, is_pad = [], [], [], []
    for k in range(clip_len):
        pad = k >= num_real
        frame_inds.append(start +
                          (k % num_real if cycle else min(k, num_real - 1)))
        is_pad.append(pad)
        is_new.append(not pad and (clip_index == 0 or k >= clip_overlap))
        # the authors' last clip holds at most T - T_o real frames
        is_output.append(not pad and (k < step or is_last))
    return ClipLayout(
        clip_index=clip_index,
        frame_inds=frame_inds,
        is_new=is_new,
        is_output=is_output,
        is_pad=is_pad,
        is_last=is_last)


def stream_clip_is_last(num_ahead: int,
                        exhausted: bool,
                        clip_len: int,
                        clip_overlap: int,
                        schedule: str = 'project') -> bool:
    """Whether a streamed clip is the last of its video.

    Args:
        num_ahead (int): frames read from the clip's first frame on, at
            most ``T + 1`` (the clip's and one look-ahead frame).
        exhausted (bool): no frame follows those.
        clip_len (int): T.
        clip_overlap (int): T_o.
        schedule (str): one of :data:`CLIP_SCHEDULES`.
    """
    if check_clip_schedule(schedule) == 'authors':
        return exhausted and num_ahead <= clip_len - clip_overlap
    return exhausted and num_ahead <= clip_len


def video_clip(length: int,
               clip_index: int,
               clip_len: int,
               clip_overlap: int,
               schedule: str = 'project') -> ClipLayout:
    """Layout of test clip ``clip_index`` of a video of ``length`` frames
    (``schedule``: one of :data:`CLIP_SCHEDULES`).

    Raises:
        ValueError: unless ``0 <= clip_overlap < clip_len``, or for an
            unknown ``schedule``.
        IndexError: ``clip_index`` outside ``[0, num_clips)``.
    """
    if not 0 <= clip_overlap < clip_len:
        raise ValueError(f'need 0 <= clip_overlap ({clip_overlap}) < '
                         f'clip_len ({clip_len})')
    total = num_clips(length, clip_len, clip_overlap, schedule)
    if not 0 <= clip_index < total:
        raise IndexError(f'clip {clip_index} out of range: a video of '
                         f'{length} frames has {total} clips')
    start = clip_index * (clip_len - clip_overlap)
    return stream_clip(clip_index, clip_len, clip_overlap,
                       min(clip_len, length - start), clip_index == total - 1,
                       schedule)


def clip_frame_metainfo(clip: ClipLayout, k: int,
                        ori_video_length: int) -> Dict[str, Any]:
    """The clip metainfo of frame ``k`` of ``clip``.

    Args:
        clip (ClipLayout): from :func:`video_clip` or :func:`stream_clip`.
        k (int): position of the frame in the clip, ``0..T-1``.
        ori_video_length (int): frames of the whole video (-1 if unknown).

    Returns:
        dict: ``clip_index``, ``is_last_clip``, ``is_new_frame``,
        ``is_output_frame``, ``is_pad_frame``, ``video_length`` (T, the
        frames the model sees) and ``ori_video_length``.
    """
    return dict(
        clip_index=clip.clip_index,
        is_last_clip=clip.is_last,
        is_new_frame=clip.is_new[k],
        is_output_frame=clip.is_output[k],
        is_pad_frame=clip.is_pad[k],
        video_length=clip.clip_len,
        ori_video_length=ori_video_length)


def layout_of_frames(metas: Sequence[dict]) -> Optional[ClipLayout]:
    """The :class:`ClipLayout` of a clip from its frames' metainfo (the
    :func:`clip_frame_metainfo` keys; ``frame_inds`` are the frames'
    ``frame_id``); None unless every frame carries them all (training
    clips carry none)."""
    keys = CLIP_META_KEYS + ('frame_id', )
    if not metas or not all(k in m for m in metas for k in keys):
        return None
    return ClipLayout(
        clip_index=int(metas[0]['clip_index']),
        frame_inds=[int(m['frame_id']) for m in metas],
        is_new=[bool(m['is_new_frame']) for m in metas],
        is_output=[bool(m['is_output_frame']) for m in metas],
        is_pad=[bool(m['is_pad_frame']) for m in metas],
        is_last=bool(metas[0]['is_last_clip']))


def clip_layout_of(sample: Any) -> ClipLayout:
    """The layout of a test clip, a ``TrackDataSample``: its metainfo
    ``clip_layout`` (``PackClipInputs`` sets it), else the one its frames'
    layout keys spell out (:func:`layout_of_frames`).

    Raises:
        ValueError: naming the sample (video and frames) when it has
            neither: the model never guesses where a clip sits in its video.
    """
    layout = sample.metainfo.get('clip_layout')
    if isinstance(layout, ClipLayout):
        return layout
    frames = [f.metainfo for f in sample]
    layout = layout_of_frames(frames)
    if layout is not None:
        return layout
    video = frames[0].get('video_id') if frames else None
    ids = [f.get('frame_id') for f in frames]
    raise ValueError(
        f'test clip of video {video} (frames {ids}) has no clip layout '
        '(metainfo clip_layout): test clips must come from a VIS dataset in '
        'test mode or VideoInferencer, whose PackClipInputs attaches it, or '
        'carry a ClipLayout (projects.cico.utils.clip_layout.video_clip)')
