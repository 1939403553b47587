"""Tests of projects/cico/datasets/transforms/clip_sampling.py: which frames
form a training clip (test clips: test_clip_layout.py).

Expected values are written out by hand from the rules of paper Sec. 3.4:
training clips are T frames around the key frame (offsets -(T-1)//2 .. T//2),
shifted inside the video and repeated in temporal order when the video is
shorter than T.
"""
import copy
import random

import pytest

from projects.cico.datasets.transforms import ClipFrameSample
from projects.cico.datasets.transforms.clip_sampling import (
    neighbour_clip_indices, train_clip_indices)

T, F = True, False


# ------------------------------------------------------------------------------------------------
# training clips
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    'length,key,clip_len,stride,expected',
    [
        # T = 3: the key frame in the middle, windows shifted at the borders
        (10, 5, 3, 1, [4, 5, 6]),
        (10, 0, 3, 1, [0, 1, 2]),
        (10, 1, 3, 1, [0, 1, 2]),
        (10, 9, 3, 1, [7, 8, 9]),
        (10, 8, 3, 1, [7, 8, 9]),
        (3, 0, 3, 1, [0, 1, 2]),
        (3, 2, 3, 1, [0, 1, 2]),
        # T = 4 (even): offsets -1 .. +2
        (10, 5, 4, 1, [4, 5, 6, 7]),
        (10, 0, 4, 1, [0, 1, 2, 3]),
        (10, 9, 4, 1, [6, 7, 8, 9]),
        (10, 8, 4, 1, [6, 7, 8, 9]),
        (10, 7, 4, 1, [6, 7, 8, 9]),
        (10, 6, 4, 1, [5, 6, 7, 8]),
        # T = 1: the key frame alone
        (10, 6, 1, 1, [6]),
        (1, 0, 1, 1, [0]),
        # stride 2
        (10, 5, 3, 2, [3, 5, 7]),
        (10, 0, 3, 2, [0, 2, 4]),
        (10, 9, 3, 2, [5, 7, 9]),
        (10, 5, 4, 2, [3, 5, 7, 9]),
        (10, 0, 4, 2, [0, 2, 4, 6]),
        # the stride is reduced when the video is too short for it
        (5, 2, 3, 2, [0, 2, 4]),  # just fits: (5-1)//2 = 2
        (4, 2, 3, 2, [1, 2, 3]),  # (4-1)//2 = 1
        (4, 0, 3, 2, [0, 1, 2]),
        (5, 2, 3, 3, [0, 2, 4]),  # 3 -> 2
        (7, 2, 4, 5, [0, 2, 4, 6]),  # 5 -> (7-1)//3 = 2
        # shorter than T: every frame, repeated, in temporal order
        (1, 0, 3, 1, [0, 0, 0]),
        (2, 0, 3, 1, [0, 0, 1]),
        (2, 1, 3, 1, [0, 0, 1]),
        (2, 1, 3, 2, [0, 0, 1]),
        (2, 0, 4, 1, [0, 0, 1, 1]),
        (3, 1, 5, 1, [0, 0, 1, 1, 2]),
    ])
def test_train_clip_indices(length, key, clip_len, stride, expected):
    inds = train_clip_indices(length, key, clip_len, stride)
    assert inds == expected
    assert key in inds


def _check_clip(inds, length, clip_len, stride):
    assert len(inds) == clip_len
    assert all(0 <= i < length for i in inds)
    assert inds == sorted(inds)
    if length >= clip_len:
        gaps = {b - a for a, b in zip(inds, inds[1:])}
        assert len(gaps) <= 1 and all(1 <= g <= stride for g in gaps)
    else:
        assert sorted(set(inds)) == list(range(length))


def test_train_clip_indices_invariants_stride_1():
    for length in range(1, 13):
        for clip_len in range(1, 6):
            for key in range(length):
                inds = train_clip_indices(length, key, clip_len, 1)
                _check_clip(inds, length, clip_len, 1)
                assert key in inds, (length, key, clip_len)


def test_train_clip_indices_invariants_stride_gt_1():
    for length in range(1, 13):
        for clip_len in range(1, 6):
            for stride in (2, 3):
                for key in range(length):
                    _check_clip(
                        train_clip_indices(length, key, clip_len, stride),
                        length, clip_len, stride)


@pytest.mark.parametrize(
    'length,key,clip_len,stride',
    [
        (10, 1, 3,
         2),  # e.g. [1, 3, 5] (shift by whole strides), not [0, 2, 4]
        (10, 8, 3, 2),  # e.g. [4, 6, 8], not [5, 7, 9]
        (10, 1, 4, 3),
    ])
def test_train_clip_contains_key_frame_with_stride(length, key, clip_len,
                                                   stride):
    """A training clip is sampled *around* its key frame: with a stride > 1
    the border shift must keep the key frame in the clip (shift by whole
    strides, or reduce the stride where that is impossible, as for (10, 1, 4,
    3)). Otherwise ClipFrameSample flags a frame that is not the key frame,
    and TrackImgSampler's "every frame a key frame" no longer holds."""
    inds = train_clip_indices(length, key, clip_len, stride)
    _check_clip(inds, length, clip_len, stride)
    assert key in inds, inds


def test_train_clip_indices_errors():
    with pytest.raises(ValueError):
        train_clip_indices(0, 0, 3)
    with pytest.raises(ValueError):
        train_clip_indices(5, 5, 3)
    with pytest.raises(ValueError):
        train_clip_indices(5, -1, 3)


# ------------------------------------------------------------------------------------------------
# ClipFrameSample
# ------------------------------------------------------------------------------------------------
def _video(length, **extra):
    images = [
        dict(
            img_id=100 + t,
            frame_id=t,
            img_path=f'v/{t:05d}.jpg',
            instances=[dict(instance_id=7, bbox=[t, 0, t + 1, 1])])
        for t in range(length)
    ]
    info = dict(video_id=3, video_length=length, images=images)
    info.update(extra)
    return info


def test_clip_frame_sample_with_key():
    out = ClipFrameSample(clip_len=3)(_video(10, key_frame_id=9))
    assert out['frame_id'] == [7, 8, 9]
    assert out['img_id'] == [107, 108, 109]
    assert out['key_frame_flags'] == [False, False, True]
    assert out['video_id'] == [3, 3, 3]
    assert out['video_length'] == [3, 3, 3]
    assert out['ori_video_length'] == [10, 10, 10]
    assert [i[0]['bbox'][0] for i in out['instances']] == [7, 8, 9]

    out = ClipFrameSample(clip_len=3)(_video(10, key_frame_id=4))
    assert out['frame_id'] == [3, 4, 5] and out['key_frame_flags'] == [
        False, True, False
    ]
    out = ClipFrameSample(
        clip_len=4, frame_stride=2)(
            _video(10, key_frame_id=0))
    assert out['frame_id'] == [0, 2, 4, 6
                               ] and out['key_frame_flags'] == [True, F, F, F]


def test_clip_frame_sample_short_video():
    out = ClipFrameSample(clip_len=3)(_video(2, key_frame_id=1))
    assert out['frame_id'] == [0, 0, 1]
    assert out['img_path'] == ['v/00000.jpg', 'v/00000.jpg', 'v/00001.jpg']
    assert out['key_frame_flags'] == [False, False, True]
    assert out['ori_video_length'] == [2, 2, 2
                                       ] and out['video_length'] == [3, 3, 3]
    out = ClipFrameSample(clip_len=3)(_video(1, key_frame_id=0))
    assert out['frame_id'] == [0, 0, 0] and out['key_frame_flags'] == [
        True, False, False
    ]


def test_clip_frame_sample_does_not_mutate_video_info():
    video = _video(6, key_frame_id=2)
    ClipFrameSample(clip_len=3)(video)
    assert all('ori_video_length' not in f for f in video['images'])
    assert video['video_length'] == 6


def test_clip_frame_sample_takes_dataset_clip_len():
    # the dataset puts clip_len / frame_stride into the video info
    out = ClipFrameSample()(
        _video(10, key_frame_id=5, clip_len=5, frame_stride=2))
    assert out['frame_id'] == [1, 3, 5, 7, 9]
    assert out['key_frame_flags'] == [F, F, T, F, F]
    assert out['video_length'] == [5] * 5
    # explicit arguments win over the dataset's
    out = ClipFrameSample(
        clip_len=2, frame_stride=1)(
            _video(10, key_frame_id=5, clip_len=5, frame_stride=2))
    assert out['frame_id'] == [5, 6]
    with pytest.raises(KeyError, match='clip_len'):
        ClipFrameSample()(_video(10, key_frame_id=5))


def test_clip_frame_sample_random_key():
    random.seed(0)
    sampler = ClipFrameSample(clip_len=3)
    keys = set()
    for _ in range(200):
        out = sampler(_video(7))
        fids = out['frame_id']
        assert fids == list(range(fids[0], fids[0] + 3))
        assert 0 <= fids[0] <= 4
        assert sum(out['key_frame_flags']) == 1
        keys.add(fids[out['key_frame_flags'].index(True)])
    assert keys == set(range(7))  # every frame can be the key frame


# ------------------------------------------------------------------------------------------------
# the authors' sampling: neighbours with objects
# ------------------------------------------------------------------------------------------------
def test_neighbour_clip_indices_by_hand():
    """T = 3: offsets -2, -1, +1 among frames with objects, two drawn
    without replacement, sorted with the key; fewer candidates repeat."""
    every = [True] * 8
    random.seed(0)
    seen = {tuple(neighbour_clip_indices(every, 3, 3)) for _ in range(60)}
    assert seen == {(1, 2, 3), (1, 3, 4), (2, 3, 4)}
    assert neighbour_clip_indices(every, 0, 3) == [0, 1, 1]  # only +1
    # key 3, frames 1 and 4 without objects: -2 -> 1 and +1 -> 4 drop out
    some = [True, False, True, True, False, True, True, True]
    seen = {tuple(neighbour_clip_indices(some, 3, 3)) for _ in range(20)}
    assert seen == {(2, 2, 3)}  # frame 2 (-1) is the only candidate
    lonely = [False, False, True, False, False]
    assert neighbour_clip_indices(lonely, 2, 3) == [2, 2, 2]
    # T = 5: offsets -3 .. +2
    seen = set()
    for _ in range(200):
        seen.update(neighbour_clip_indices([True] * 12, 6, 5))
    assert seen == {3, 4, 5, 6, 7, 8}


def test_clip_frame_sample_neighbours_with_objects():
    video = _video(6, key_frame_id=5)
    video['images'][3]['instances'] = []  # frame 3: no object
    random.seed(1)
    sample = ClipFrameSample(clip_len=3, neighbours_with_objects=True)
    for _ in range(10):
        out = sample(copy.deepcopy(video))
        assert out['frame_id'] == [4, 4, 5]  # +1 is outside, 3 is empty
        assert out['key_frame_flags'] == [False, False, True]
