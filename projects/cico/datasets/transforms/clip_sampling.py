"""Training clip sampling: which frames form a training clip.

``ClipFrameSample``: ``clip_len`` (T) frames around a key frame,
``frame_stride`` apart, shifted inside the video at its borders, and repeated
(in temporal order) when the video has fewer than T frames.

Test clips (T frames, T_o shared with the previous clip, padded at the end)
are laid out by :mod:`projects.cico.utils.clip_layout`.
"""
import random
from typing import Dict, List, Optional

import numpy as np
from mmdet.datasets.transforms import BaseFrameSample
from mmdet.registry import TRANSFORMS


def train_clip_indices(length: int,
                       key: int,
                       clip_len: int,
                       stride: int = 1) -> List[int]:
    """Frame indices of a training clip around ``key``.

    The window has offsets ``-(T-1)//2 .. T//2`` (times ``stride``) from the
    key frame; it is shifted by whole strides to stay inside the video (so the
    key frame is always in the clip), the stride is reduced when no such window
    fits, and frames repeat when ``length < T``.
    """
    if length < 1:
        raise ValueError('cannot sample a clip from a video with no frame')
    if not 0 <= key < length:
        raise ValueError(f'key frame {key} outside a video of {length} frames')
    if length < clip_len:
        return [k * length // clip_len for k in range(clip_len)]
    before = (clip_len - 1) // 2  # frames before the key when centred
    for s in range(max(stride, 1), 0, -1):
        # m frames before the key: key - s*m >= 0, key + s*(T-1-m) < length
        lo = max(0, clip_len - 1 - (length - 1 - key) // s)
        hi = min(clip_len - 1, key // s)
        if lo <= hi:
            m = min(max(before, lo), hi)
            return [key + s * (k - m) for k in range(clip_len)]
    raise AssertionError('unreachable: stride 1 always fits')


def neighbour_clip_indices(has_objects: List[bool], key: int,
                           clip_len: int) -> List[int]:
    """The authors' training clip: the key frame and ``T - 1`` frames drawn
    without replacement among the offsets ``-ceil(T/2) .. ceil(T/2) - 1``
    (0 excluded; -2, -1, +1 for T = 3) whose frame holds an object, sorted;
    with fewer such frames the drawn ones repeat (the key frame when there
    is none), e.g. ``[c, c, key]`` sorted.

    Args:
        has_objects (list[bool]): per frame of the video, whether it holds
            an object.
        key (int): the key frame.
        clip_len (int): T.
    """
    half = (clip_len + 1) // 2
    cands = [
        key + o for o in range(-half, half)
        if o != 0 and 0 <= key + o < len(has_objects) and has_objects[key + o]
    ]
    picked = random.sample(cands, min(clip_len - 1, len(cands))) or [key]
    picked = (picked * clip_len)[:clip_len - 1]
    return sorted(picked + [key])


def _check_frame_ids(inds: List[int], clip_len: int, length: int,
                     video_id: Optional[int]) -> List[int]:
    """Explicit clip frames: ``clip_len`` indices into a video of
    ``length`` frames."""
    inds = [int(i) for i in inds]
    if len(inds) != clip_len:
        raise ValueError(f'video {video_id}: {len(inds)} clip frames '
                         f'{inds} for clip_len={clip_len}')
    bad = [i for i in inds if not 0 <= i < length]
    if bad:
        raise ValueError(f'video {video_id}: frame indices {bad} outside '
                         f'its {length} frames (0..{length - 1})')
    return inds


@TRANSFORMS.register_module()
class ClipFrameSample(BaseFrameSample):
    """Sample a training clip of T frames around a key frame.

    Args:
        clip_len (int, optional): T. ``None`` takes the dataset's ``clip_len``
            (``VISDataset`` puts it in the video info), so a config changes T
            in one place.
        frame_stride (int, optional): gap between clip frames, in annotated
            frames. ``None`` takes the dataset's ``frame_stride``.
        collect_video_keys (list[str]): video-level keys copied to frames.
        neighbours_with_objects (bool): the authors' sampling
            (:func:`neighbour_clip_indices`): the other frames drawn at
            random among the key frame's neighbours that hold an object,
            instead of the contiguous window around it.

    A video info with ``clip_frame_ids`` (T frame indices into the video)
    gets exactly those frames, the middle one as the key frame (how
    ``tools/analysis_tools/clip_loss.py`` reads a chosen clip).
    """

    def __init__(self,
                 clip_len: Optional[int] = None,
                 frame_stride: Optional[int] = None,
                 collect_video_keys: List[str] = ['video_id', 'video_length'],
                 neighbours_with_objects: bool = False) -> None:
        super().__init__(collect_video_keys=collect_video_keys)
        self.clip_len = clip_len
        self.frame_stride = frame_stride
        self.neighbours_with_objects = neighbours_with_objects

    def transform(self, video_infos: dict) -> Dict[str, list]:
        clip_len = self.clip_len or video_infos.get('clip_len')
        stride = self.frame_stride or video_infos.get('frame_stride', 1)
        if clip_len is None:
            raise KeyError('ClipFrameSample needs clip_len (argument or the '
                           "dataset's clip_len)")
        length = len(video_infos['images'])
        key = video_infos.get('key_frame_id')
        inds = video_infos.get('clip_frame_ids')
        if inds is not None:
            inds = _check_frame_ids(inds, clip_len, length,
                                    video_infos.get('video_id'))
            key = inds[len(inds) // 2]
        else:
            if key is None:
                key = random.randrange(length)
            if self.neighbours_with_objects:
                has_objects = [
                    any(
                        i.get('ignore_flag', 0) == 0 for i in img['instances'])
                    for img in video_infos['images']
                ]
                inds = neighbour_clip_indices(has_objects, key, clip_len)
            else:
                inds = train_clip_indices(length, key, clip_len, stride)
        # one dict per sampled frame, so repeated frames stay independent
        clip_infos = dict(video_infos)
        clip_infos['images'] = [dict(video_infos['images'][i]) for i in inds]
        results = self.prepare_data(clip_infos, list(range(len(inds))))
        flags = np.zeros(len(inds), dtype=bool)
        flags[inds.index(key) if key in inds else len(inds) // 2] = True
        results['key_frame_flags'] = flags.tolist()
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(clip_len={self.clip_len}, '
                f'frame_stride={self.frame_stride}, neighbours_with_objects='
                f'{self.neighbours_with_objects})')
