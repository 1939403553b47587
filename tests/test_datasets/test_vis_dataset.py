"""Tests of projects/cico/datasets/vis_dataset.py on hand-made annotation
files.

A tiny dataset is written by hand in both the official YouTube-VIS layout
(``videos`` with ``file_names``; one annotation per object with per-frame
``bboxes``/``segmentations``/``areas``, ``null`` where the object is absent)
and mmdet's CocoVID layout (``images`` with ``frame_id``/``video_id``; one
annotation per object per frame). The masks mix the three encodings found in
the wild: uncompressed RLE (``counts`` a list, column-major runs starting with
zeros), compressed RLE (``counts`` a str) and polygons.
"""
import json
import os
import os.path as osp
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmdet.registry import DATASETS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from pycocotools import mask as mask_utils

import projects.cico  # noqa: F401  (registers the modules)
from projects.cico.datasets import (OVISDataset, VISDataset, YTVIS2019Dataset,
                                    YTVIS2021Dataset)

REPO_ROOT = Path(__file__).resolve().parents[2]
H, W = 24, 32
IMG_PREFIX = 'train/JPEGImages'
# json category ids are deliberately unsorted and not contiguous
CATEGORIES = [
    dict(id=3, name='cat'),
    dict(id=1, name='person'),
    dict(id=7, name='dog')
]
CLASSES = ('person', 'cat', 'dog')  # sorted by category id
CAT2LABEL = {1: 0, 3: 1, 7: 2}
VIDEOS = [  # (json video id, folder, number of frames)
    (4, 'vid_a', 5),
    (9, 'vid_b', 2),
]


# ------------------------------------------------------------------------------------------------
# hand-made masks and encodings
# ------------------------------------------------------------------------------------------------
def rect(x0, y0, x1, y1, extra=None):
    """Binary (H, W) mask of the pixels x0 <= x < x1, y0 <= y < y1 (plus an
    optional 2nd rect)."""
    m = np.zeros((H, W), np.uint8)
    m[y0:y1, x0:x1] = 1
    if extra is not None:
        ex0, ey0, ex1, ey1 = extra
        m[ey0:ey1, ex0:ex1] = 1
    return m


def uncompressed_rle(mask):
    """YouTube-VIS style uncompressed RLE: column-major runs, the first run
    counts zeros."""
    flat = mask.flatten(order='F')
    counts, current, run = [], 0, 0
    for v in flat:
        if v != current:
            counts.append(run)
            current, run = v, 0
        run += 1
    counts.append(run)
    return {'size': [H, W], 'counts': [int(c) for c in counts]}


def compressed_rle(mask):
    rle = mask_utils.encode(np.asfortranarray(mask))
    return {'size': [H, W], 'counts': rle['counts'].decode('ascii')}


def rect_polygon(x0, y0, x1, y1):
    """A polygon that pycocotools rasterises to exactly ``rect(x0, y0, x1,
    y1)``."""
    return [[x0, y0, x1, y0, x1, y1, x0, y1]]


def xywh(mask):
    ys, xs = np.nonzero(mask)
    return [
        float(xs.min()),
        float(ys.min()),
        float(xs.max() + 1 - xs.min()),
        float(ys.max() + 1 - ys.min())
    ]


def xyxy(mask):
    x, y, w, h = xywh(mask)
    return [x, y, x + w, y + h]


# Objects: ann id -> (video id, category id, per-frame (encoding, mask) or
# None). 'u' uncompressed RLE, 'c' compressed RLE, 'p' polygon (the mask is
# then a plain rectangle).
def _objects():
    return {
        11: (4, 1, [('u', rect(2, 3, 10, 9, extra=(10, 3, 12, 5))),
                    ('u', rect(3, 3, 11, 9)), None,
                    ('u', rect(5, 4, 13, 10, extra=(5, 10, 7, 14))), None]),
        12: (4, 3, [
            None, ('c', rect(20, 10, 28, 20)),
            ('c', rect(19, 11, 27, 21, extra=(27, 11, 29, 13))),
            ('c', rect(18, 12, 26, 22)), ('c', rect(17, 12, 25, 22))
        ]),
        13: (4, 7, [('p', (0, 15, 6, 24)), ('p', (1, 15, 7, 24)),
                    ('p', (2, 14, 8, 23)), ('p', (3, 14, 9, 23)),
                    ('p', (4, 13, 10, 22))]),
        14: (9, 1, [('p', (10, 2, 20, 12)), ('u', rect(11, 2, 21, 13))]),
    }


def _mask_and_seg(entry):
    enc, m = entry
    if enc == 'p':
        return rect(*m), rect_polygon(*m)
    if enc == 'u':
        return m, uncompressed_rle(m)
    return m, compressed_rle(m)


def expected_frames():
    """video id -> list over frames of {instance id: (label, xyxy box,
    mask)}."""
    out = {vid: [dict() for _ in range(n)] for vid, _, n in VIDEOS}
    for ann_id, (vid, cat, frames) in _objects().items():
        for t, entry in enumerate(frames):
            if entry is None:
                continue
            m, _ = _mask_and_seg(entry)
            out[vid][t][ann_id] = (CAT2LABEL[cat], xyxy(m), m)
    return out


def frame_value(vid, t):
    """Constant grey level of frame t of video vid, so a loaded frame can be
    identified."""
    return 20 + 30 * t if vid == 4 else 180 + 30 * t


def write_frames(img_dir):
    for vid, folder, n in VIDEOS:
        os.makedirs(osp.join(img_dir, folder), exist_ok=True)
        for t in range(n):
            img = np.full((H, W, 3), frame_value(vid, t), np.uint8)
            assert cv2.imwrite(osp.join(img_dir, folder, f'{t:05d}.jpg'), img)


def official_json(categories=CATEGORIES, with_annotations=True):
    videos = [
        dict(
            id=vid,
            width=W,
            height=H,
            length=n,
            file_names=[f'{folder}/{t:05d}.jpg' for t in range(n)])
        for vid, folder, n in VIDEOS
    ]
    anns = []
    for ann_id, (vid, cat, frames) in _objects().items():
        segs, boxes, areas = [], [], []
        for entry in frames:
            if entry is None:
                segs.append(None), boxes.append(None), areas.append(None)
                continue
            m, seg = _mask_and_seg(entry)
            segs.append(seg), boxes.append(xywh(m)), areas.append(
                float(m.sum()))
        anns.append(
            dict(
                id=ann_id,
                video_id=vid,
                category_id=cat,
                iscrowd=0,
                height=H,
                width=W,
                length=len(frames),
                segmentations=segs,
                bboxes=boxes,
                areas=areas))
    data = dict(info={}, licenses=[], videos=videos, categories=categories)
    if with_annotations:
        data['annotations'] = anns
    return data


def cocovid_json():
    videos, images, anns = [], [], []
    img_ids = {}
    img_id = 0
    for vid, folder, n in VIDEOS:
        videos.append(dict(id=vid, name=folder, width=W, height=H))
        for t in range(n):
            img_id += 1  # the same global numbering as the official loader
            img_ids[vid, t] = img_id
            images.append(
                dict(
                    id=img_id,
                    file_name=f'{folder}/{t:05d}.jpg',
                    height=H,
                    width=W,
                    frame_id=t,
                    video_id=vid))
    objects = _objects()
    for vid, _, n in VIDEOS:
        for t in range(n):
            for ann_id, (ovid, cat, frames) in objects.items():
                if ovid != vid or frames[t] is None:
                    continue
                m, seg = _mask_and_seg(frames[t])
                anns.append(
                    dict(
                        id=len(anns) + 1,
                        video_id=vid,
                        image_id=img_ids[vid, t],
                        category_id=cat,
                        instance_id=ann_id,
                        bbox=xywh(m),
                        segmentation=seg,
                        area=float(m.sum()),
                        iscrowd=0))
    return dict(
        videos=videos, images=images, annotations=anns, categories=CATEGORIES)


def dump(path, data):
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(data, f)
    return str(path)


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    """data_root with train/JPEGImages, official.json and cocovid.json."""
    r = tmp_path_factory.mktemp('vis_hand')
    write_frames(str(r / IMG_PREFIX))
    dump(r / 'official.json', official_json())
    dump(r / 'cocovid.json', cocovid_json())
    return r


def build(root, ann_file='official.json', cls=VISDataset, **kwargs):
    kwargs.setdefault('data_prefix', dict(img_path=IMG_PREFIX))
    kwargs.setdefault('pipeline', [])
    return cls(ann_file=ann_file, data_root=str(root), **kwargs)


MASK_PIPELINE = [
    dict(type='ClipFrameSample'),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadTrackAnnotations', with_mask=True)
        ]),
]

TEST_PIPELINE = [
    dict(
        type='TransformBroadcaster',
        transforms=[dict(type='LoadImageFromFile')]),
    dict(type='PackClipInputs'),
]


def setup_module():
    init_default_scope('mmdet')


# ------------------------------------------------------------------------------------------------
# structure
# ------------------------------------------------------------------------------------------------
def test_official_structure(root):
    ds = build(root)
    assert len(ds) == 2
    assert ds.metainfo['classes'] == CLASSES
    assert tuple(ds.metainfo['cat_ids']) == (1, 3, 7)
    exp = expected_frames()
    img_ids = []
    for v, (vid, folder, n) in enumerate(VIDEOS):
        info = ds.get_data_info(v)
        assert info['video_id'] == vid
        assert info['video_length'] == n
        assert ds.get_len_per_video(v) == n
        assert len(info['images']) == n
        for t, frame in enumerate(info['images']):
            assert frame['frame_id'] == t
            assert frame['video_id'] == vid
            assert (frame['height'], frame['width']) == (H, W)
            assert frame['img_path'] == osp.join(
                str(root), IMG_PREFIX, folder, f'{t:05d}.jpg')
            assert osp.isfile(frame['img_path'])
            img_ids.append(frame['img_id'])
            got = {inst['instance_id']: inst for inst in frame['instances']}
            assert set(got) == set(exp[vid][t]), (vid, t)
            for iid, (label, box, _) in exp[vid][t].items():
                assert got[iid]['bbox_label'] == label
                assert got[iid]['bbox'] == pytest.approx(box)
                assert got[iid]['ignore_flag'] == 0
                assert 'mask' in got[iid]
    assert len(set(img_ids)) == 7  # unique image ids over the dataset
    assert ds.num_all_imgs == 7
    # spot checks written out: absent frames have no instance of that object
    v4 = ds.get_data_info(0)['images']
    assert sorted(i['instance_id'] for i in v4[0]['instances']) == [11, 13]
    assert sorted(i['instance_id'] for i in v4[2]['instances']) == [12, 13]
    assert sorted(i['instance_id'] for i in v4[4]['instances']) == [12, 13]
    first = {i['instance_id']: i for i in v4[0]['instances']}
    assert first[11]['bbox'] == [2.0, 3.0, 12.0,
                                 9.0]  # x,y,w,h = 2,3,10,6 -> x1,y1,x2,y2
    assert first[13]['bbox'] == [0.0, 15.0, 6.0, 24.0]
    assert first[13]['bbox_label'] == 2 and first[11]['bbox_label'] == 0


def test_inclusive_box_corners(root):
    """box_corners='inclusive' (the authors'): x, y, w, h = 2, 3, 10, 6 ->
    (2, 3, 11, 8), one pixel less on the right and bottom than mmdet's
    (2, 3, 12, 9); in both json formats."""
    for ann in ('official.json', 'cocovid.json'):
        ds = build(root, ann, box_corners='inclusive')
        first = {
            i['instance_id']: i
            for i in ds.get_data_info(0)['images'][0]['instances']
        }
        assert first[11]['bbox'] == [2.0, 3.0, 11.0, 8.0]
        assert first[13]['bbox'] == [0.0, 15.0, 5.0, 23.0]
    with pytest.raises(ValueError, match='box_corners'):
        build(root, box_corners='centre')


def test_official_and_cocovid_give_same_instances(root):
    a, b = build(root, 'official.json'), build(root, 'cocovid.json')
    assert len(a) == len(b) == 2
    assert a.metainfo['classes'] == b.metainfo['classes']
    assert tuple(a.metainfo['cat_ids']) == tuple(b.metainfo['cat_ids'])
    for v in range(2):
        ia, ib = a.get_data_info(v), b.get_data_info(v)
        assert ia['video_id'] == ib['video_id']
        assert ia['video_length'] == ib['video_length']
        for fa, fb in zip(ia['images'], ib['images']):
            for key in ('img_id', 'img_path', 'frame_id', 'video_id', 'height',
                        'width'):
                assert fa[key] == fb[key], key
            ka = sorted(fa['instances'], key=lambda i: i['instance_id'])
            kb = sorted(fb['instances'], key=lambda i: i['instance_id'])
            assert [i['instance_id']
                    for i in ka] == [i['instance_id'] for i in kb]
            assert [i['bbox_label']
                    for i in ka] == [i['bbox_label'] for i in kb]
            for x, y in zip(ka, kb):
                assert x['bbox'] == pytest.approx(y['bbox'])
                assert x['mask'] == y['mask']


@pytest.mark.parametrize('ann_file', ['official.json', 'cocovid.json'])
def test_masks_decode_through_pipeline(root, ann_file):
    """All three encodings decode, via LoadTrackAnnotations, to the hand-made
    masks."""
    exp = expected_frames()
    ds = build(root, ann_file, clip_len=5, pipeline=MASK_PIPELINE)
    out = ds[(0, 2)]  # T = 5 = the whole first video
    assert out['frame_id'] == [0, 1, 2, 3, 4]
    encodings_seen = set()
    for t in range(5):
        ids = out['gt_instances_ids'][t].tolist()
        assert sorted(ids) == sorted(exp[4][t])
        masks = out['gt_masks'][t]
        assert (masks.height, masks.width) == (H, W)
        assert len(masks) == len(ids) == len(out['gt_bboxes'][t]) == len(
            out['gt_bboxes_labels'][t])
        for k, iid in enumerate(ids):
            label, box, m = exp[4][t][iid]
            np.testing.assert_array_equal(
                masks.masks[k], m, err_msg=f'frame {t} id {iid}')
            np.testing.assert_allclose(out['gt_bboxes'][t][k], box)
            assert out['gt_bboxes_labels'][t][k] == label
            encodings_seen.add(_objects()[iid][2][t][0])
        # the image is the frame that was asked for
        assert abs(float(out['img'][t].mean()) - frame_value(4, t)) < 2
    assert encodings_seen == {'u', 'c', 'p'}
    # second video: polygon at t=0 and uncompressed RLE at t=1
    # (clip_len 5 > 2 frames)
    out = ds[(1, 1)]
    assert len(out['frame_id']) == 5 and out['frame_id'][-1] == 1
    for t, fid in enumerate(out['frame_id']):
        np.testing.assert_array_equal(out['gt_masks'][t].masks[0],
                                      exp[9][fid][14][2])
        assert out['gt_instances_ids'][t].tolist() == [14]


def test_crowd_and_boxless_annotations(tmp_path):
    """iscrowd -> ignore_flag 1 (PackClipInputs moves it to
    ignored_instances); an official annotation whose ``bboxes`` are null takes
    its boxes from its masks."""
    write_frames(str(tmp_path / IMG_PREFIX))
    data = official_json()
    anns = {a['id']: a for a in data['annotations']}
    anns[12]['iscrowd'] = 1
    anns[13]['bboxes'] = [None] * 5
    del anns[11]['bboxes']
    dump(tmp_path / 'official.json', data)
    ds = build(
        tmp_path,
        pipeline=MASK_PIPELINE + [dict(type='PackClipInputs')],
        clip_len=3)
    exp = expected_frames()
    for t, frame in enumerate(ds.get_data_info(0)['images']):
        got = {i['instance_id']: i for i in frame['instances']}
        assert set(got) == set(exp[4][t])
        for iid, inst in got.items():
            assert inst['bbox'] == pytest.approx(exp[4][t][iid][1])
            assert inst['ignore_flag'] == int(iid == 12)
    out = ds[(0, 2)]  # frames 1, 2, 3: object 12 is present in all three
    for f in out['data_samples'].video_data_samples:
        assert 12 not in f.gt_instances.instances_ids.tolist()
        assert f.ignored_instances.instances_ids.tolist() == [12]


# ------------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------------
def test_missing_json(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.json'):
        build(tmp_path, 'nowhere.json')


def test_invalid_json(tmp_path):
    path = tmp_path / 'broken.json'
    path.write_text('{"videos": [1, 2,')
    with pytest.raises(ValueError, match='broken.json'):
        build(tmp_path, 'broken.json')


@pytest.mark.parametrize('field', ['segmentations', 'bboxes', 'areas'])
def test_per_frame_length_mismatch(tmp_path, field):
    data = official_json()
    ann = next(a for a in data['annotations'] if a['id'] == 12)
    ann[field] = ann[field][:4]  # video 4 has 5 frames
    dump(tmp_path / 'short_list.json', data)
    with pytest.raises(ValueError) as err:
        build(tmp_path, 'short_list.json')
    msg = str(err.value)
    assert 'short_list.json' in msg
    assert 'video 4' in msg
    assert 'annotation 12' in msg
    assert field in msg


def test_unknown_category(tmp_path):
    data = official_json()
    data['annotations'][1]['category_id'] = 99
    dump(tmp_path / 'badcat.json', data)
    with pytest.raises(ValueError, match='99'):
        build(tmp_path, 'badcat.json')
    data = cocovid_json()
    data['annotations'][0]['category_id'] = 42
    dump(tmp_path / 'badcat_cocovid.json', data)
    with pytest.raises(ValueError, match='42'):
        build(tmp_path, 'badcat_cocovid.json')


@pytest.mark.parametrize('test_mode', [False, True])
def test_missing_frame_file(tmp_path, test_mode):
    write_frames(str(tmp_path / IMG_PREFIX))
    dump(tmp_path / 'official.json', official_json())
    missing = tmp_path / IMG_PREFIX / 'vid_a' / '00001.jpg'
    os.remove(missing)
    if test_mode:
        ds = build(tmp_path, test_mode=True, pipeline=TEST_PIPELINE)
        idx = (0, 0)  # clip 0 = frames 0, 1, 2
    else:
        ds = build(tmp_path, pipeline=MASK_PIPELINE)
        idx = (0, 1)  # key frame 1 -> frames 0, 1, 2
    with pytest.raises(FileNotFoundError, match='00001.jpg') as err:
        ds[idx]
    assert str(missing) in str(err.value)


# ------------------------------------------------------------------------------------------------
# short videos, splits without annotations
# ------------------------------------------------------------------------------------------------
def test_short_video_train_and_test(root):
    """Video 9 has 2 frames, T = 3: a 3-frame clip both in training and in
    testing."""
    train = build(root, pipeline=MASK_PIPELINE, clip_len=3)
    for key in (0, 1):
        out = train[(1, key)]
        assert out['frame_id'] == [0, 0, 1]
        assert len(out['img']) == 3
        assert [round(float(i.mean())) for i in out['img']] == pytest.approx(
            [frame_value(9, 0),
             frame_value(9, 0),
             frame_value(9, 1)], abs=2)
        assert sum(out['key_frame_flags']) == 1
        assert out['frame_id'][out['key_frame_flags'].index(True)] == key
        assert out['video_length'] == [3, 3, 3]
        assert out['ori_video_length'] == [2, 2, 2]
    test = build(
        root,
        test_mode=True,
        pipeline=TEST_PIPELINE,
        clip_len=3,
        clip_overlap=1)
    assert test.num_clips(1) == 1
    out = test[(1, 0)]
    assert tuple(out['inputs'].shape) == (3, 3, H, W)
    frames = out['data_samples'].video_data_samples
    assert [f.frame_id for f in frames] == [0, 1, 1]
    assert [f.is_pad_frame for f in frames] == [False, False, True]
    assert [f.is_output_frame for f in frames] == [True, True, False]
    assert [f.is_last_clip for f in frames] == [True] * 3
    assert [f.ori_video_length for f in frames] == [2] * 3


def test_clip_overlap_default_and_bounds(root):
    # the paper's T_o = 1 by default; frame by frame (T = 1) defaults to
    # T_o = 0
    assert build(root, clip_len=3).clip_overlap == 1
    fifo = build(root, test_mode=True, pipeline=TEST_PIPELINE, clip_len=1)
    assert fifo.clip_overlap == 0
    assert [fifo.num_clips(0), fifo.num_clips(1)] == [5,
                                                      2]  # one clip per frame
    assert build(root, clip_len=1).clip_overlap == 0  # training a T = 1 model
    for clip_len, overlap in ((1, 1), (3, 3), (3, -1)):
        with pytest.raises(ValueError, match=f'got {overlap} and {clip_len}'):
            build(root, clip_len=clip_len, clip_overlap=overlap)


def test_authors_clip_schedule_end_to_end(root):
    """``clip_schedule='authors'``, T = 3, T_o = 1: video 4 (5 frames) gets
    ceil(5 / 2) = 3 clips [0, 1, 2], [2, 3, 4], [4, 4, 4] emitting 0, 1 |
    2, 3 | 4; video 9 (2 frames) one clip [0, 1, 0] (the padding cycles the
    clip's frames: frame 0's pixels) emitting 0, 1. The sampler yields
    those clips; every frame is emitted once. The project's schedule ends
    video 4 with [2, 3, 4] emitting all three and pads video 9 as
    [0, 1, 1]. An unknown schedule is an error naming the option."""
    from projects.cico.datasets import VideoClipSampler
    test = build(
        root,
        test_mode=True,
        pipeline=TEST_PIPELINE,
        clip_len=3,
        clip_overlap=1,
        clip_schedule='authors')
    assert test.clip_schedule == 'authors'
    assert list(VideoClipSampler(test)) == [(0, 0), (0, 1), (0, 2), (1, 0)]
    seen, emitted = {}, {0: [], 1: []}
    for v, c in VideoClipSampler(test):
        out = test[(v, c)]
        frames = out['data_samples'].video_data_samples
        inds = [f.frame_id for f in frames]
        seen[v, c] = (inds, [f.is_new_frame for f in frames],
                      [f.is_output_frame
                       for f in frames], [f.is_pad_frame for f in frames])
        emitted[v] += [f.frame_id for f in frames if f.is_output_frame]
        vid = VIDEOS[v][0]
        assert [round(float(x.float().mean())) for x in out['inputs']
                ] == pytest.approx([frame_value(vid, t) for t in inds], abs=2)
        assert all(f.is_last_clip == (c == test.num_clips(v) - 1)
                   for f in frames)
    T, F = True, False
    assert seen == {
        (0, 0): ([0, 1, 2], [T, T, T], [T, T, F], [F, F, F]),
        (0, 1): ([2, 3, 4], [F, T, T], [T, T, F], [F, F, F]),
        (0, 2): ([4, 4, 4], [F, F, F], [T, F, F], [F, T, T]),
        (1, 0): ([0, 1, 0], [T, T, F], [T, T, F], [F, F, T]),
    }
    assert emitted == {0: [0, 1, 2, 3, 4], 1: [0, 1]}
    ours = build(
        root,
        test_mode=True,
        pipeline=TEST_PIPELINE,
        clip_len=3,
        clip_overlap=1)
    assert ours.clip_schedule == 'project'
    assert [ours.num_clips(0), ours.num_clips(1)] == [2, 1]
    last = ours[(0, 1)]['data_samples'].video_data_samples
    assert [f.is_output_frame for f in last] == [True] * 3
    assert [
        f.frame_id for f in ours[(1, 0)]['data_samples'].video_data_samples
    ] == [0, 1, 1]
    with pytest.raises(ValueError, match="clip_schedule must be one of"):
        build(root, test_mode=True, clip_schedule='reference')


@pytest.mark.parametrize('categories', [CATEGORIES, None])
def test_split_without_annotations(tmp_path, categories):
    write_frames(str(tmp_path / 'valid/JPEGImages'))
    data = official_json(with_annotations=False)
    assert 'annotations' not in data
    if categories is None:
        # e.g. a test json: the dataset's classes give ids 1..C
        del data['categories']
        cls = YTVIS2019Dataset
    else:
        cls = VISDataset
    dump(tmp_path / 'valid.json', data)
    ds = build(
        tmp_path,
        'valid.json',
        cls=cls,
        test_mode=True,
        data_prefix=dict(img_path='valid/JPEGImages'),
        pipeline=TEST_PIPELINE,
        clip_len=3,
        clip_overlap=1)
    assert len(ds) == 2
    if categories is None:
        assert len(ds.metainfo['classes']) == 40
        assert tuple(ds.metainfo['cat_ids']) == tuple(range(1, 41))
    assert all(not f['instances'] for v in range(2)
               for f in ds.get_data_info(v)['images'])
    assert [ds.num_clips(0),
            ds.num_clips(1)] == [2, 1]  # 5 frames: [0,1,2],[2,3,4]; 2: [0,1,1]
    frames_seen = []
    for v, c in [(0, 0), (0, 1), (1, 0)]:
        out = ds[(v, c)]
        assert tuple(out['inputs'].shape) == (3, 3, H, W)
        samples = out['data_samples'].video_data_samples
        assert all(s.clip_index == c for s in samples)
        assert all(len(s.gt_instances) == 0 for s in samples)
        frames_seen.append([s.frame_id for s in samples])
    assert frames_seen == [[0, 1, 2], [2, 3, 4], [0, 1, 1]]
    # test mode is indexed by (video, clip) only
    with pytest.raises(TypeError, match='VideoClipSampler'):
        ds[0]


def test_train_without_annotations_fails(tmp_path):
    dump(tmp_path / 'valid.json', official_json(with_annotations=False))
    with pytest.raises(ValueError, match='valid.json'):
        build(tmp_path, 'valid.json')


def test_train_filter_keeps_every_frame(root):
    """Training never drops frames (mmdet's filter would), so clips stay
    contiguous."""
    ds = build(root)
    assert [ds.get_len_per_video(v) for v in range(len(ds))] == [5, 2]
    assert [f['frame_id']
            for f in ds.get_data_info(0)['images']] == [0, 1, 2, 3, 4]


# ------------------------------------------------------------------------------------------------
# class lists, config relocation
# ------------------------------------------------------------------------------------------------
def test_class_lists():
    c19 = YTVIS2019Dataset.METAINFO['classes']
    c21 = YTVIS2021Dataset.METAINFO['classes']
    ovis = OVISDataset.METAINFO['classes']
    assert len(c19) == 40 and len(set(c19)) == 40
    assert c19[0] == 'person' and c19[1] == 'giant_panda' and c19[
        -1] == 'tennis_racket'
    assert c19[7] == 'dog' and c19[38] == 'earless_seal'
    assert len(c21) == 40 and len(set(c21)) == 40
    assert c21[0] == 'airplane' and c21[-1] == 'zebra' and c21[25] == 'person'
    assert list(c21) == sorted(c21)  # the 2021 ids are alphabetical
    assert len(ovis) == 25 and len(set(ovis)) == 25
    assert ovis[0] == 'person' and ovis[12] == 'giant_panda' and ovis[
        -1] == 'vehicle'


def test_ovis_names_match_case_insensitively(tmp_path):
    """The OVIS json capitalises names ('Giant_panda'); mapping is by name,
    ids official."""
    write_frames(str(tmp_path / 'train'))
    cats = [
        dict(id=i + 1, name=n.capitalize())
        for i, n in enumerate(OVISDataset.METAINFO['classes'])
    ]
    cats = cats[::-1]  # order in the file does not matter
    data = official_json(categories=cats)
    for ann in data['annotations']:
        ann['category_id'] = 13  # Giant_panda
    dump(tmp_path / 'annotations_train.json', data)
    ds = build(
        tmp_path,
        'annotations_train.json',
        cls=OVISDataset,
        data_prefix=dict(img_path='train'))
    assert tuple(ds.metainfo['cat_ids']) == tuple(range(1, 26))
    labels = {
        i['bbox_label']
        for v in range(2)
        for f in ds.get_data_info(v)['images']
        for i in f['instances']
    }
    assert labels == {12}


# config -> (dataset class, train ann, train img prefix, valid ann, valid img
# prefix)
CONFIGS = {
    'youtube_vis_2019': (YTVIS2019Dataset, 'train.json', 'train/JPEGImages',
                         'valid.json', 'valid/JPEGImages'),
    'youtube_vis_2021':
    (YTVIS2021Dataset, 'train/instances.json', 'train/JPEGImages',
     'valid/instances.json', 'valid/JPEGImages'),
    'ovis': (OVISDataset, 'annotations_train.json', 'train',
             'annotations_valid.json', 'valid'),
}


def _write_layout(root, cls, ann, prefix, with_annotations):
    cats = [
        dict(id=i + 1, name=n) for i, n in enumerate(cls.METAINFO['classes'])
    ]
    data = official_json(categories=cats, with_annotations=with_annotations)
    if with_annotations:
        for a in data['annotations']:
            a['category_id'] = {1: 1, 3: 2, 7: 3}[a['category_id']]
    dump(osp.join(root, ann), data)
    write_frames(osp.join(root, prefix))


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_data_root_relocation(tmp_path, name):
    init_default_scope('mmdet')
    cls, tr_ann, tr_pre, va_ann, va_pre = CONFIGS[name]
    roots = [str(tmp_path / 'a') + '/', str(tmp_path / 'b') + '/']
    for r in roots:
        _write_layout(r, cls, tr_ann, tr_pre, True)
        _write_layout(r, cls, va_ann, va_pre, False)
    cfg_path = REPO_ROOT / 'configs' / '_base_' / 'datasets' / f'{name}.py'
    for r in roots:
        cfg = Config.fromfile(str(cfg_path))
        # what --cfg-options does
        cfg.merge_from_dict({
            'train_dataloader.dataset.data_root': r,
            'val_dataloader.dataset.data_root': r
        })
        train = DATASETS.build(cfg.train_dataloader.dataset)
        val = DATASETS.build(cfg.val_dataloader.dataset)
        assert type(train) is cls and type(val) is cls
        assert osp.normpath(train.ann_file) == osp.normpath(
            osp.join(r, tr_ann))
        assert osp.normpath(val.ann_file) == osp.normpath(osp.join(r, va_ann))
        assert val.test_mode and not train.test_mode
        f_tr = train.get_data_info(0)['images'][1]
        f_va = val.get_data_info(1)['images'][0]
        assert osp.normpath(f_tr['img_path']) == osp.normpath(
            osp.join(r, tr_pre, 'vid_a/00001.jpg'))
        assert osp.normpath(f_va['img_path']) == osp.normpath(
            osp.join(r, va_pre, 'vid_b/00000.jpg'))
        # the config's own pipelines run on the relocated data
        out = train[(0, 2)]
        assert out['inputs'].shape[0] == 3
        assert {s.img_path
                for s in out['data_samples'].video_data_samples} <= {
                    osp.join(r, tr_pre, f'vid_a/{t:05d}.jpg')
                    for t in range(5)
                }
        out = val[(0, 1)]
        assert [
            s.img_path for s in out['data_samples'].video_data_samples
        ] == [osp.join(r, va_pre, f'vid_a/{t:05d}.jpg') for t in (2, 3, 4)]


def test_redraw_empty_clips(root):
    """redraw_empty_clips=N: a clip whose frames keep no object after the
    pipeline is drawn again up to N times, then the error names the video
    and key frame; 0 returns it as it is. Here a filter empties every
    clip; without it the first draw is returned."""
    emptying = [
        dict(type='ClipFrameSample'),
        dict(
            type='TransformBroadcaster',
            transforms=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadTrackAnnotations', with_mask=True),
                dict(type='FilterEmptyInstances', min_mask_area=10**9)
            ]),
        dict(type='PackClipInputs')
    ]
    kept = build(root, pipeline=emptying)[(0, 1)]['data_samples']
    assert all(len(f.gt_instances) == 0 for f in kept.video_data_samples)
    ds = build(root, pipeline=emptying, redraw_empty_clips=2)
    calls = []
    pipeline = ds.pipeline
    ds.pipeline = lambda info: calls.append(1) or pipeline(info)
    with pytest.raises(
            RuntimeError,
            match='video 4, key frame 1: no object'
            ' left in 3 draws'):
        ds[(0, 1)]
    assert len(calls) == 3
    full = build(
        root,
        pipeline=emptying[:1] +
        [dict(emptying[1], transforms=emptying[1]['transforms'][:2])] +
        emptying[2:],
        redraw_empty_clips=2)
    out = full[(0, 1)]['data_samples']
    assert any(len(f.gt_instances) for f in out.video_data_samples)
