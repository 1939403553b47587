"""Tests of projects/cico/utils/clip_layout.py: the layout of test clips.

Expected values are written out by hand from the rules of paper Sec. 3.4 and
Table 2: test clip c covers frames [c(T-T_o), c(T-T_o)+T), the last clip is the
first that reaches the end of the video and is padded by repeating its last
real frame; a clip emits its first T-T_o frames, or all its real frames when it
is the last one. The authors' schedule (their eval.py test loop) has
ceil(L / (T-T_o)) clips, each emitting its first T-T_o frames, a short clip
padded by cycling its own real frames.
"""
import pytest
from mmdet.registry import TRANSFORMS

from projects.cico.datasets.transforms.pack_clip_inputs import (
    CLIP_DEFAULT_META_KEYS, MMDET_TRACK_META_KEYS)
from projects.cico.utils import (CLIP_META_KEYS, CLIP_SCHEDULES,
                                 check_clip_schedule, clip_frame_metainfo,
                                 clip_layout_of, default_clip_overlap,
                                 layout_of_frames, num_clips,
                                 resolve_clip_overlap, stream_clip,
                                 stream_clip_is_last, video_clip)

T, F = True, False
# (L, T_o) -> list over clips of (frame_inds, is_new, is_output, is_pad),
# clip_len 3
CLIPS = {
    (10, 1): [([0, 1, 2], [T, T, T], [T, T, F], [F, F, F]),
              ([2, 3, 4], [F, T, T], [T, T, F], [F, F, F]),
              ([4, 5, 6], [F, T, T], [T, T, F], [F, F, F]),
              ([6, 7, 8], [F, T, T], [T, T, F], [F, F, F]),
              ([8, 9, 9], [F, T, F], [T, T, F], [F, F, T])],
    (9, 1): [([0, 1, 2], [T, T, T], [T, T, F], [F, F, F]),
             ([2, 3, 4], [F, T, T], [T, T, F], [F, F, F]),
             ([4, 5, 6], [F, T, T], [T, T, F], [F, F, F]),
             ([6, 7, 8], [F, T, T], [T, T, T], [F, F, F])],
    (10, 0): [([0, 1, 2], [T, T, T], [T, T, T], [F, F, F]),
              ([3, 4, 5], [T, T, T], [T, T, T], [F, F, F]),
              ([6, 7, 8], [T, T, T], [T, T, T], [F, F, F]),
              ([9, 9, 9], [T, F, F], [T, F, F], [F, T, T])],
    (9, 0): [([0, 1, 2], [T, T, T], [T, T, T], [F, F, F]),
             ([3, 4, 5], [T, T, T], [T, T, T], [F, F, F]),
             ([6, 7, 8], [T, T, T], [T, T, T], [F, F, F])],
    (10, 2): [([0, 1, 2], [T, T, T], [T, F, F], [F, F, F])] +
    [([c, c + 1, c + 2], [F, F, T], [T, F, F], [F, F, F])
     for c in range(1, 7)] + [([7, 8, 9], [F, F, T], [T, T, T], [F, F, F])],
    (9, 2): [([0, 1, 2], [T, T, T], [T, F, F], [F, F, F])] +
    [([c, c + 1, c + 2], [F, F, T], [T, F, F], [F, F, F])
     for c in range(1, 6)] + [([6, 7, 8], [F, F, T], [T, T, T], [F, F, F])],
    (4, 1): [([0, 1, 2], [T, T, T], [T, T, F], [F, F, F]),
             ([2, 3, 3], [F, T, F], [T, T, F], [F, F, T])],
    (3, 0): [([0, 1, 2], [T, T, T], [T, T, T], [F, F, F])],
    (3, 1): [([0, 1, 2], [T, T, T], [T, T, T], [F, F, F])],
    (3, 2): [([0, 1, 2], [T, T, T], [T, T, T], [F, F, F])],
    (2, 0): [([0, 1, 1], [T, T, F], [T, T, F], [F, F, T])],
    (2, 1): [([0, 1, 1], [T, T, F], [T, T, F], [F, F, T])],
    (2, 2): [([0, 1, 1], [T, T, F], [T, T, F], [F, F, T])],
    (1, 1): [([0, 0, 0], [T, F, F], [T, F, F], [F, T, T])],
}

# The authors' schedule, T = 3: (L, T_o) -> list over clips of (frame_inds,
# is_new, is_output, is_pad). L = 7, T_o = 1 adds the clip [6, 6, 6] that
# alone emits frame 6 (the project ends with [4, 5, 6] emitting all three);
# padding cycles the clip's real frames ([4, 5] -> [4, 5, 4]); with T_o = 2
# a clip before the last can be padded ([2, 3] -> [2, 3, 2]).
AUTHORS_CLIPS = {
    (7, 1): [([0, 1, 2], [T, T, T], [T, T, F], [F, F, F]),
             ([2, 3, 4], [F, T, T], [T, T, F], [F, F, F]),
             ([4, 5, 6], [F, T, T], [T, T, F], [F, F, F]),
             ([6, 6, 6], [F, F, F], [T, F, F], [F, T, T])],
    (6, 1): [([0, 1, 2], [T, T, T], [T, T, F], [F, F, F]),
             ([2, 3, 4], [F, T, T], [T, T, F], [F, F, F]),
             ([4, 5, 4], [F, T, F], [T, T, F], [F, F, T])],
    (2, 1): [([0, 1, 0], [T, T, F], [T, T, F], [F, F, T])],
    (1, 1): [([0, 0, 0], [T, F, F], [T, F, F], [F, T, T])],
    (7, 0): [([0, 1, 2], [T, T, T], [T, T, T], [F, F, F]),
             ([3, 4, 5], [T, T, T], [T, T, T], [F, F, F]),
             ([6, 6, 6], [T, F, F], [T, F, F], [F, T, T])],
    (5, 0): [([0, 1, 2], [T, T, T], [T, T, T], [F, F, F]),
             ([3, 4, 3], [T, T, F], [T, T, F], [F, F, T])],
    (6, 0): [([0, 1, 2], [T, T, T], [T, T, T], [F, F, F]),
             ([3, 4, 5], [T, T, T], [T, T, T], [F, F, F])],
    (2, 0): [([0, 1, 0], [T, T, F], [T, T, F], [F, F, T])],
    (1, 0): [([0, 0, 0], [T, F, F], [T, F, F], [F, T, T])],
    (4, 2): [([0, 1, 2], [T, T, T], [T, F, F], [F, F, F]),
             ([1, 2, 3], [F, F, T], [T, F, F], [F, F, F]),
             ([2, 3, 2], [F, F, F], [T, F, F], [F, F, T]),
             ([3, 3, 3], [F, F, F], [T, F, F], [F, T, T])],
}


@pytest.mark.parametrize('length,overlap', sorted(CLIPS))
def test_video_clip_by_hand(length, overlap):
    expected = CLIPS[length, overlap]
    assert num_clips(length, 3, overlap) == len(expected)
    for c, (inds, new, out, pad) in enumerate(expected):
        got = video_clip(length, c, 3, overlap)
        assert got.clip_index == c and got.clip_len == 3
        assert got.frame_inds == inds, c
        assert got.is_new == new, c
        assert got.is_output == out, c
        assert got.is_pad == pad, c
        assert got.is_last == (c == len(expected) - 1)


@pytest.mark.parametrize('length,clip_len,overlap,expected', [
    (10, 3, 1, 5),
    (9, 3, 1, 4),
    (2, 3, 1, 1),
    (3, 3, 1, 1),
    (1, 3, 0, 1),
    (4, 3, 1, 2),
    (10, 3, 0, 4),
    (9, 3, 0, 3),
    (10, 3, 2, 8),
    (9, 3, 2, 7),
    (5, 3, 1, 2),
    (6, 3, 1, 3),
    (100, 5, 2, 33),
    (7, 1, 0, 7),
])
def test_num_clips(length, clip_len, overlap, expected):
    assert num_clips(length, clip_len, overlap) == expected


def test_default_clip_overlap():
    # the paper's T_o = 1; a frame-by-frame model (T = 1) cannot overlap
    assert [default_clip_overlap(t) for t in (1, 2, 3, 5)] == [0, 1, 1, 1]


def test_clip_coverage_invariants():
    """Over all clips: every frame is output exactly once and goes through
    the backbone (is_new) exactly once, a new frame was never in an earlier
    clip, outputs are in order, and the last clip is the first that reaches
    the end of the video."""
    for length in range(1, 16):
        for clip_len in range(1, 6):
            for overlap in range(clip_len):
                n = num_clips(length, clip_len, overlap)
                seen, outputs, news = set(), [], []
                for c in range(n):
                    clip = video_clip(length, c, clip_len, overlap)
                    inds = clip.frame_inds
                    assert len(inds) == clip_len
                    for k, f in enumerate(inds):
                        assert 0 <= f < length
                        if clip.is_new[k]:
                            assert f not in seen, (length, clip_len, overlap,
                                                   c, k)
                            news.append(f)
                        elif not clip.is_pad[k]:
                            # an old frame: its features are reused
                            assert f in seen
                        if clip.is_output[k]:
                            outputs.append(f)
                        if clip.is_pad[k]:
                            assert f == inds[k - 1] and not clip.is_new[k] \
                                and not clip.is_output[k]
                    seen.update(inds)
                    reaches_end = inds[-1] == length - 1
                    assert reaches_end == (c == n - 1)
                    assert clip.is_last == (c == n - 1)
                assert outputs == list(range(length)), (length, clip_len,
                                                        overlap)
                assert news == list(range(length)), (length, clip_len, overlap)


@pytest.mark.parametrize('length,overlap', sorted(AUTHORS_CLIPS))
def test_authors_video_clip_by_hand(length, overlap):
    expected = AUTHORS_CLIPS[length, overlap]
    assert num_clips(length, 3, overlap, 'authors') == len(expected)
    for c, (inds, new, out, pad) in enumerate(expected):
        got = video_clip(length, c, 3, overlap, 'authors')
        assert got.clip_index == c and got.clip_len == 3
        assert got.frame_inds == inds, c
        assert got.is_new == new, c
        assert got.is_output == out, c
        assert got.is_pad == pad, c
        assert got.is_last == (c == len(expected) - 1)


def test_authors_and_project_end_a_video_differently():
    """L = 7, T = 3, T_o = 1: the same first two clips; the project's last
    clip [4, 5, 6] emits all three frames, the authors' [4, 5, 6] emits
    4 and 5 and their extra clip [6, 6, 6] emits 6."""
    ours = [video_clip(7, c, 3, 1) for c in range(num_clips(7, 3, 1))]
    theirs = [
        video_clip(7, c, 3, 1, 'authors')
        for c in range(num_clips(7, 3, 1, 'authors'))
    ]
    assert ours[:2] == theirs[:2]
    assert [c.frame_inds for c in ours] == [[0, 1, 2], [2, 3, 4], [4, 5, 6]]
    assert ours[2].is_output == [T, T, T] and ours[2].is_last
    assert theirs[2].is_output == [T, T, F] and not theirs[2].is_last
    assert theirs[3].frame_inds == [6, 6, 6]


@pytest.mark.parametrize('length,clip_len,overlap,expected', [
    (7, 3, 1, 4),
    (6, 3, 1, 3),
    (2, 3, 1, 1),
    (1, 3, 1, 1),
    (7, 3, 0, 3),
    (6, 3, 0, 2),
    (4, 3, 2, 4),
    (100, 5, 2, 34),
    (7, 1, 0, 7),
])
def test_authors_num_clips(length, clip_len, overlap, expected):
    # ceil(L / (T - T_o))
    assert num_clips(length, clip_len, overlap, 'authors') == expected


def test_authors_clip_coverage_invariants():
    """The authors' schedule over all small cases: every frame is emitted
    exactly once and is new exactly once, a new frame was never in an
    earlier clip and an old one was in the previous clip, a clip emits
    its first T-T_o real frames (the last one all it has, at most T-T_o),
    and a padding frame cycles the clip's real frames."""
    for length in range(1, 16):
        for clip_len in range(1, 6):
            for overlap in range(clip_len):
                step = clip_len - overlap
                n = num_clips(length, clip_len, overlap, 'authors')
                outputs, news, prev = [], [], []
                for c in range(n):
                    clip = video_clip(length, c, clip_len, overlap, 'authors')
                    inds = clip.frame_inds
                    real = clip.is_pad.index(True) if any(
                        clip.is_pad) else clip_len
                    assert inds[:real] == list(
                        range(c * step, c * step + real))
                    for k, f in enumerate(inds):
                        assert inds[k] == inds[k % real]
                        if clip.is_new[k]:
                            assert f not in news
                            news.append(f)
                        elif not clip.is_pad[k]:
                            assert f in prev
                        if clip.is_output[k]:
                            outputs.append(f)
                    assert clip.is_output == [
                        k < min(step, real) for k in range(clip_len)
                    ]
                    if clip.is_last:
                        assert real <= step
                    prev = inds
                    assert clip.is_last == (c == n - 1)
                assert outputs == list(range(length))
                assert news == list(range(length))


def test_authors_stream_clip_equals_video_clip():
    """A streaming reader with one look-ahead frame (at most T + 1 frames
    from the clip's first on) lays every clip out as the dataset does, in
    both schedules."""
    for schedule in CLIP_SCHEDULES:
        for length in range(1, 16):
            for clip_len in range(1, 6):
                for overlap in range(clip_len):
                    n = num_clips(length, clip_len, overlap, schedule)
                    for c in range(n):
                        start = c * (clip_len - overlap)
                        ahead = min(clip_len + 1, length - start)
                        is_last = stream_clip_is_last(ahead,
                                                      start + ahead == length,
                                                      clip_len, overlap,
                                                      schedule)
                        got = stream_clip(c, clip_len, overlap,
                                          min(clip_len, ahead), is_last,
                                          schedule)
                        assert got == video_clip(length, c, clip_len, overlap,
                                                 schedule)


def test_clip_schedule_errors():
    assert [check_clip_schedule(s)
            for s in CLIP_SCHEDULES] == list(CLIP_SCHEDULES)
    for call in (lambda: check_clip_schedule('reference'),
                 lambda: num_clips(7, 3, 1, 'reference'),
                 lambda: video_clip(7, 0, 3, 1, 'reference'),
                 lambda: stream_clip(0, 3, 1, 3, False, 'reference'),
                 lambda: stream_clip_is_last(3, True, 3, 1, 'reference')):
        with pytest.raises(
                ValueError,
                match="clip_schedule must be one of .*'reference'"):
            call()
    # the authors' last clip holds at most T - T_o real frames, a clip
    # before it more
    with pytest.raises(ValueError, match='at most T - T_o = 2'):
        stream_clip(2, 3, 1, num_real=3, is_last=True, schedule='authors')
    with pytest.raises(ValueError, match='more than T - T_o = 2'):
        stream_clip(2, 3, 1, num_real=2, is_last=False, schedule='authors')
    # T_o = 2: a clip before the last may be padded ([2, 3] -> [2, 3, 2])
    assert stream_clip(2, 3, 2, 2, False, 'authors').frame_inds == [2, 3, 2]


def test_video_clip_errors():
    with pytest.raises(IndexError):
        video_clip(10, 5, 3, 1)  # 5 clips: 0..4
    with pytest.raises(IndexError):
        video_clip(10, -1, 3, 1)
    with pytest.raises(ValueError):
        video_clip(10, 0, 3, 3)


def test_resolve_clip_overlap():
    assert [resolve_clip_overlap(t) for t in (1, 2, 3, 5)] == [0, 1, 1, 1]
    assert resolve_clip_overlap(3, 0) == 0 and resolve_clip_overlap(3, 2) == 2
    for clip_len, overlap in ((1, 1), (3, 3), (3, -1)):
        with pytest.raises(ValueError, match=f'got {overlap} and {clip_len}'):
            resolve_clip_overlap(clip_len, overlap)


def test_stream_clip_equals_video_clip():
    """A streaming reader (which knows only the real frames of the clip and
    whether a frame follows) lays out every clip exactly as the dataset (which
    knows the video length)."""
    for length in range(1, 16):
        for clip_len in range(1, 6):
            for overlap in range(clip_len):
                n = num_clips(length, clip_len, overlap)
                for c in range(n):
                    start = c * (clip_len - overlap)
                    got = stream_clip(c, clip_len, overlap,
                                      min(clip_len, length - start),
                                      c == n - 1)
                    assert got == video_clip(length, c, clip_len, overlap)


def test_stream_clip_by_hand_and_errors():
    # clip 2 of T = 3, T_o = 1, the last with 2 real frames: frames 4, 5
    # (5 repeated)
    clip = stream_clip(2, 3, 1, num_real=2, is_last=True)
    assert clip.frame_inds == [4, 5, 5]
    assert clip.is_new == [F, T, F]
    assert clip.is_output == [T, T, F]
    assert clip.is_pad == [F, F, T]
    with pytest.raises(ValueError, match='only the last clip'):
        stream_clip(2, 3, 1, num_real=2, is_last=False)
    with pytest.raises(ValueError, match='real frames'):
        stream_clip(0, 3, 1, num_real=0, is_last=True)
    with pytest.raises(ValueError, match='clip_overlap'):
        stream_clip(0, 3, 3, num_real=3, is_last=True)


def test_clip_frame_metainfo():
    clip = video_clip(10, 4, 3, 1)  # the padded last clip [8, 9, 9]
    metas = [clip_frame_metainfo(clip, k, 10) for k in range(3)]
    assert metas[0] == dict(
        clip_index=4,
        is_last_clip=True,
        is_new_frame=False,
        is_output_frame=True,
        is_pad_frame=False,
        video_length=3,
        ori_video_length=10)
    assert [m['is_new_frame'] for m in metas] == [F, T, F]
    assert [m['is_output_frame'] for m in metas] == [T, T, F]
    assert [m['is_pad_frame'] for m in metas] == [F, F, T]
    assert 'num_clips' not in metas[0]  # nothing reads it
    # every clip key is packed by PackClipInputs
    assert set(metas[0]) - {'video_length', 'ori_video_length'
                            } == set(CLIP_META_KEYS)
    streamed = clip_frame_metainfo(stream_clip(0, 3, 1, 3, False), 2, -1)
    assert streamed['ori_video_length'] == -1 and streamed[
        'is_output_frame'] is False


def test_pack_clip_inputs_meta_keys():
    pack = TRANSFORMS.build(dict(type='PackClipInputs'))
    assert pack.meta_keys == CLIP_DEFAULT_META_KEYS
    assert CLIP_DEFAULT_META_KEYS == MMDET_TRACK_META_KEYS + CLIP_META_KEYS
    assert {'video_length', 'ori_video_length', 'frame_id',
            'instances'} <= set(MMDET_TRACK_META_KEYS)
    extra = TRANSFORMS.build(
        dict(type='PackClipInputs', meta_keys=('pad_shape', )))
    assert extra.meta_keys == CLIP_DEFAULT_META_KEYS + ('pad_shape', )
    assert 'PackClipInputs' in repr(extra)


def packed_clip(layout=None, t=3):
    """PackClipInputs on T tiny frames, with the layout's keys when given
    (a test clip) or without (a training clip)."""
    import numpy as np
    results = dict(
        img=[np.zeros((4, 6, 3), np.uint8)] * t,
        img_shape=[(4, 6)] * t,
        ori_shape=[(4, 6)] * t,
        img_id=list(range(t)),
        img_path=[f'{k}.jpg' for k in range(t)],
        frame_id=list(layout.frame_inds if layout else range(t)),
        video_id=[5] * t)
    if layout is None:
        results.update(video_length=[t] * t, ori_video_length=[7] * t)
    else:
        for k in range(t):
            for key, value in clip_frame_metainfo(layout, k, 7).items():
                results.setdefault(key, []).append(value)
    return TRANSFORMS.build(dict(type='PackClipInputs'))(results)


def test_a_test_clip_carries_its_typed_layout():
    """PackClipInputs attaches the clip's ClipLayout to a test clip's
    TrackDataSample (clip 3 of a 7-frame video, authors' schedule: frames
    6, 6, 6, frame 6 not new, emitted once, the copies padding); a
    training clip gets none, and the model's reader names a clip that
    has neither a layout nor the keys that spell one."""
    layout = video_clip(7, 3, 3, 1, schedule='authors')
    sample = packed_clip(layout)['data_samples']
    assert sample.metainfo['clip_layout'] == layout
    assert clip_layout_of(sample) == layout
    assert (layout.frame_inds, layout.is_new, layout.is_output,
            layout.is_pad) == ([6, 6, 6], [F, F, F], [T, F, F], [F, T, T])
    train = packed_clip()['data_samples']
    assert 'clip_layout' not in train.metainfo
    with pytest.raises(ValueError) as err:
        clip_layout_of(train)
    assert 'test clip of video 5 (frames [0, 1, 2]) has no clip layout' in \
        str(err.value)
    # keys of every frame spell the same layout
    for k, frame in enumerate(train):
        frame.set_metainfo(dict(clip_frame_metainfo(layout, k, 7), frame_id=6))
    assert layout_of_frames([f.metainfo for f in train]) == layout
