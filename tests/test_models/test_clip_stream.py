"""ClipStream: the per-video state of the streaming test."""
import pytest
import torch

from projects.cico.models.vis import ClipStream
from projects.cico.utils.clip_layout import ClipLayout


def metas(video, clip, frames, new=None, last=False):
    """The clip's layout and frame metainfos."""
    new = new if new is not None else [True] * len(frames)
    layout = ClipLayout(
        clip_index=clip,
        frame_inds=list(frames),
        is_new=list(new),
        is_output=[True] * len(frames),
        is_pad=[False] * len(frames),
        is_last=last)
    return layout, [dict(video_id=video, frame_id=f) for f in frames]


def counting_compute(log):
    """compute(positions): one row per position, value = 10 * clip
    position + 1, and log how many frames were computed."""

    def compute(positions):
        log.append(list(positions))
        return (torch.tensor([[10. * p + 1] for p in positions]), )

    return compute


def test_reuses_shared_frames_and_keeps_only_the_clip():
    stream = ClipStream()
    log = []
    assert stream.start_clip(*metas(1, 0, [0, 1, 2]))  # a new video
    out = stream.per_frame('feats', counting_compute(log))[0]
    assert out[:, 0].tolist() == [1., 11., 21.]
    # clip 1 shares frame 2 (position 0 now): not computed again
    assert not stream.start_clip(*metas(1, 1, [2, 3, 4], [False, True, True]))
    out = stream.per_frame('feats', counting_compute(log))[0]
    assert log == [[0, 1, 2], [1, 2]]
    assert out[:, 0].tolist() == [21., 11., 21.]  # frame 2 kept its row
    assert sorted(stream._caches['feats']) == [2, 3, 4]  # memory is flat
    # a padded last clip repeats frame 5: computed once
    stream.start_clip(*metas(1, 2, [4, 5, 5], [False, True, False], last=True))
    stream.per_frame('feats', counting_compute(log))
    assert log[-1] == [1]
    stream.end_clip(metas(1, 2, [4, 5, 5], last=True)[0])
    assert stream.is_empty


def test_new_video_resets():
    stream = ClipStream()
    stream.start_clip(*metas(1, 0, [0, 1, 2]))
    stream.per_frame('feats', counting_compute([]))
    assert stream.start_clip(*metas(2, 0, [0, 1, 2]))  # another video
    log = []
    stream.per_frame('feats', counting_compute(log))
    assert log == [[0, 1, 2]]  # nothing of video 1 reused


def test_out_of_order_clip_is_an_error():
    stream = ClipStream()
    stream.start_clip(*metas(1, 0, [0, 1, 2]))
    with pytest.raises(
            ValueError,
            match='clip 2 of video 1 arrived after '
            'clip 0 of video 1'):
        stream.start_clip(*metas(1, 2, [4, 5, 6], [False, True, True]))


def test_shared_frame_without_result_is_an_error():
    stream = ClipStream()
    # the layout says frame 7 was seen by the previous clip, but this is
    # the first clip of the video: nothing is cached
    stream.start_clip(*metas(3, 0, [7, 8, 9], [False, True, True]))
    with pytest.raises(ValueError, match='frame 7 is marked as shared'):
        stream.per_frame('feats', counting_compute([]))


def test_without_reuse_every_frame_is_recomputed():
    stream = ClipStream(reuse=False)
    log = []
    stream.start_clip(*metas(1, 0, [0, 1, 2]))
    stream.per_frame('feats', counting_compute(log))
    stream.start_clip(*metas(1, 1, [2, 3, 4], [False, True, True]))
    out = stream.per_frame('feats', counting_compute(log))[0]
    assert log == [[0, 1, 2], [0, 1, 2]]
    assert out[:, 0].tolist() == [1., 11., 21.]


def test_an_output_a_clip_may_skip_is_computed_when_missing():
    """The CMH runs only in clips with candidates: when clip 1 skipped it,
    clip 2's shared frame 4 is computed instead of being an error; when
    clip 2 ran it, clip 3 reuses frame 6."""
    stream = ClipStream()
    log = []
    stream.start_clip(*metas(1, 0, [0, 1, 2]))
    stream.per_frame('protos', counting_compute(log), every_clip=False)
    stream.start_clip(*metas(1, 1, [2, 3, 4], [False, True, True]))
    stream.start_clip(*metas(1, 2, [4, 5, 6], [False, True, True]))
    out = stream.per_frame(
        'protos', counting_compute(log), every_clip=False)[0]
    assert log == [[0, 1, 2], [0, 1, 2]]  # frame 4 computed again
    assert out[:, 0].tolist() == [1., 11., 21.]
    assert sorted(stream._caches['protos']) == [4, 5, 6]  # 0-2 dropped
    stream.start_clip(*metas(1, 3, [6, 7, 8], [False, True, True]))
    stream.per_frame('protos', counting_compute(log), every_clip=False)
    assert log[-1] == [1, 2]
    # the default still refuses a shared frame it has not seen
    with pytest.raises(ValueError, match='frame 6 is marked as shared'):
        stream.per_frame('feats', counting_compute([]))
