"""Tests of projects/cico/datasets/samplers/clip_sampler.py: the test-time
clip order.

One step = one clip of one video; videos in order, the clips of a video
consecutively, whole videos per rank (paper Sec. 3.4 "Inference";
docs/mmdet_traps.md#datasets).
"""
import json
import os
import random

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import projects.cico  # noqa: F401
from projects.cico.datasets import VideoClipSampler, VISDataset
from projects.cico.datasets.samplers import clip_sampler as clip_sampler_module
from projects.cico.datasets.samplers.clip_sampler import split_videos

LENGTHS = [9, 2, 3, 10, 4,
           1]  # T=3, T_o=1 -> clips 4, 1, 1, 5, 2, 1 (14 in all)
CLIPS = [4, 1, 1, 5, 2, 1]
H, W = 16, 24


# ------------------------------------------------------------------------------------------------
# split_videos
# ------------------------------------------------------------------------------------------------
def _check_partition(chunks, n_videos, world_size):
    assert len(chunks) == world_size
    flat = [v for c in chunks for v in c]
    assert flat == list(
        range(n_videos))  # contiguous, in order, each video exactly once
    for c in chunks:
        if c:
            assert c == list(range(c[0], c[0] + len(c)))


def test_split_videos_example():
    chunks = split_videos([5, 1, 1, 1, 4], 2)
    assert chunks == [[0, 1], [2, 3, 4]]  # 6 and 6 clips
    assert split_videos([5, 1, 1, 1, 4], 1) == [[0, 1, 2, 3, 4]]


def test_split_videos_more_ranks_than_videos():
    chunks = split_videos([3, 2], 4)
    _check_partition(chunks, 2, 4)
    assert sum(1 for c in chunks if not c) == 2  # two ranks get no video
    assert sorted(len(c) for c in chunks) == [0, 0, 1,
                                              1]  # a video is never split
    assert split_videos([], 3) == [[], [], []]
    chunks = split_videos([7], 2)
    _check_partition(chunks, 1, 2)
    assert sorted(chunks) == [[], [0]]


def test_split_videos_equal_counts():
    assert split_videos([2] * 8, 4) == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert split_videos([1] * 6, 3) == [[0, 1], [2, 3], [4, 5]]
    chunks = split_videos([1] * 10, 3)
    _check_partition(chunks, 10, 3)
    assert sorted(len(c) for c in chunks) == [3, 3, 4]


def test_split_videos_random_partitions_and_balance():
    rng = random.Random(0)
    for _ in range(300):
        n = rng.randint(0, 30)
        counts = [rng.randint(1, 20) for _ in range(n)]
        world = rng.randint(1, 8)
        chunks = split_videos(counts, world)
        _check_partition(chunks, n, world)
        if counts:
            loads = [sum(counts[v] for v in c) for c in chunks]
            assert sum(loads) == sum(counts)
            # no rank gets more than its share plus one video
            assert max(loads) <= sum(counts) / world + max(counts)


# ------------------------------------------------------------------------------------------------
# VideoClipSampler on a real dataset
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp('vis_sampler')
    videos = []
    for v, n in enumerate(LENGTHS):
        names = []
        os.makedirs(root / 'frames' / f'v{v}')
        for t in range(n):
            name = f'v{v}/{t:05d}.jpg'
            cv2.imwrite(
                str(root / 'frames' / name),
                np.full((H, W, 3), 10 * t, np.uint8))
            names.append(name)
        videos.append(
            dict(id=v + 1, width=W, height=H, length=n, file_names=names))
    with open(root / 'valid.json', 'w') as f:
        json.dump(
            dict(videos=videos, categories=[dict(id=1, name='thing')]), f)
    init_default_scope('mmdet')
    return VISDataset(
        ann_file='valid.json',
        data_root=str(root),
        data_prefix=dict(img_path='frames'),
        test_mode=True,
        clip_len=3,
        clip_overlap=1,
        pipeline=[
            dict(
                type='TransformBroadcaster',
                transforms=[dict(type='LoadImageFromFile')]),
            dict(type='PackClipInputs')
        ])


def _expected_indices(videos):
    return [(v, c) for v in videos for c in range(CLIPS[v])]


def _sampler(dataset, monkeypatch, rank, world):
    monkeypatch.setattr(clip_sampler_module, 'get_dist_info', lambda:
                        (rank, world))
    return VideoClipSampler(dataset)


def test_single_process_order(dataset, monkeypatch):
    assert [dataset.num_clips(v) for v in range(len(dataset))] == CLIPS
    sampler = _sampler(dataset, monkeypatch, 0, 1)
    assert list(sampler) == _expected_indices(range(6))
    assert len(sampler) == 14
    sampler.set_epoch(3)
    assert list(sampler) == _expected_indices(
        range(6))  # the order never changes


def test_two_ranks_union_is_single_process(dataset, monkeypatch):
    single = list(_sampler(dataset, monkeypatch, 0, 1))
    r0 = list(_sampler(dataset, monkeypatch, 0, 2))
    r1 = list(_sampler(dataset, monkeypatch, 1, 2))
    # contiguous chunks, nothing duplicated, no padding
    assert r0 + r1 == single
    v0, v1 = {v for v, _ in r0}, {v for v, _ in r1}
    assert r0 and r1 and not v0 & v1
    # whole videos per rank, clips of a video consecutive and complete
    for part, videos in ((r0, v0), (r1, v1)):
        assert part == _expected_indices(sorted(videos))
    expected = split_videos(CLIPS, 2)
    assert sorted(v0) == expected[0] and sorted(v1) == expected[1]


def test_more_ranks_than_videos(dataset, monkeypatch):
    parts = [list(_sampler(dataset, monkeypatch, r, 8)) for r in range(8)]
    assert sum(parts, []) == list(_sampler(dataset, monkeypatch, 0, 1))
    assert any(len(p) == 0 for p in parts)
    for p in parts:
        videos = sorted({v for v, _ in p})
        assert p == _expected_indices(videos)


def test_sampler_needs_num_clips():
    with pytest.raises(TypeError, match='num_clips'):
        VideoClipSampler(list(range(3)))


def test_dataloader_yields_clips_in_order(dataset):
    """The registered sampler in an mmengine-built dataloader: one clip per
    step, in order."""
    init_default_scope('mmdet')
    loader = Runner.build_dataloader(
        dict(
            batch_size=1,
            num_workers=0,
            sampler=dict(type='VideoClipSampler'),
            dataset=dataset,
            collate_fn=dict(type='pseudo_collate')))
    assert isinstance(loader.sampler, VideoClipSampler)
    steps = []
    for batch in loader:
        frames = batch['data_samples'][0].video_data_samples
        assert tuple(batch['inputs'][0].shape) == (3, 3, H, W)
        steps.append((frames[0].video_id - 1, frames[0].clip_index,
                      frames[0].is_last_clip, [f.frame_id for f in frames]))
    assert [(v, c) for v, c, _, _ in steps] == _expected_indices(range(6))
    assert [last for _, _, last, _ in steps
            ] == [c == CLIPS[v] - 1 for v, c in _expected_indices(range(6))]
    assert steps[0][3] == [0, 1, 2] and steps[3][3] == [6, 7, 8
                                                        ]  # video 0 (9 frames)
    assert steps[4][3] == [0, 1, 1]  # video 1 (2 frames): padded
    assert steps[-1][3] == [0, 0, 0]  # video 5 (1 frame)


def test_key_frame_sampler_visits_frames_with_objects_once(tmp_path):
    """The authors' epoch: every (video, frame) whose frame holds an
    object, once, shuffled; frames without objects are not key frames;
    two ranks split them without overlap."""
    import json
    from unittest import mock

    from mmdet.registry import DATASETS

    from projects.cico.datasets.samplers import KeyFrameSampler
    from tools.dataset_converters.synthvis_generator import generate_synthvis
    generate_synthvis(
        str(tmp_path),
        train_videos=6,
        val_videos=0,
        frames=(6, 9),
        size=(32, 48),
        seed=1)  # 42 of its 45 frames hold an object
    ds = DATASETS.build(
        dict(
            type='SynthVISDataset',
            data_root=str(tmp_path),
            ann_file='annotations/train.json',
            data_prefix=dict(img_path='train/JPEGImages'),
            pipeline=[]))
    raw = json.load(open(tmp_path / 'annotations' / 'train.json'))
    order = [v['id'] for v in raw['videos']]
    expected = {(order.index(a['video_id']), t)
                for a in raw['annotations']
                for t, b in enumerate(a['bboxes']) if b}
    total = sum(ds.get_len_per_video(v) for v in range(len(ds)))
    assert len(expected) < total  # some frames hold no object
    sampler = KeyFrameSampler(ds, seed=0)
    got = list(sampler)
    assert len(got) == len(expected) and set(got) == expected
    with mock.patch(
            'mmdet.datasets.samplers.track_img_sampler.get_dist_info',
            return_value=(1, 2)):
        rank1 = list(KeyFrameSampler(ds, seed=0))
    with mock.patch(
            'mmdet.datasets.samplers.track_img_sampler.get_dist_info',
            return_value=(0, 2)):
        rank0 = list(KeyFrameSampler(ds, seed=0))
    assert set(rank0) | set(rank1) == expected
    assert len(rank0) == len(rank1) == (len(expected) + 1) // 2
