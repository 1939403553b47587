"""The real clip pipelines of configs/_base_/datasets/synthvis.py on a tiny
generated SynthVIS.

Train: ClipFrameSample -> TransformBroadcaster(share_random_params=True)[load,
annotations with masks and ids, RandomResize, RandomCrop, RandomFlip,
PhotoMetricDistortion] -> PackClipInputs. Every random draw must be shared by
the T frames of a clip, and the instance ids must stay aligned with boxes,
labels and masks. Test: the dataset is indexed by (video, clip).
"""
import copy
import json
import os.path as osp
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS, TRANSFORMS
from mmdet.structures import TrackDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope

import projects.cico  # noqa: F401
from projects.cico.datasets import VideoClipSampler
from projects.cico.datasets.synthvis_meta import SYNTHVIS_CLASSES
from projects.cico.utils.clip_layout import video_clip
from tools.dataset_converters.synthvis_generator import generate_synthvis

REPO_ROOT = Path(__file__).resolve().parents[2]
CFG_FILE = REPO_ROOT / 'configs' / '_base_' / 'datasets' / 'synthvis.py'
FRAME_H, FRAME_W = 64, 96
T = 3


@pytest.fixture(scope='module')
def synth(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthvis_pipeline')
    generate_synthvis(
        str(root),
        train_videos=3,
        val_videos=2,
        frames=(5, 6),
        size=(FRAME_H, FRAME_W),
        seed=0)
    return str(root) + '/'


@pytest.fixture(scope='module')
def cfg():
    init_default_scope('mmdet')
    return Config.fromfile(str(CFG_FILE))


def _seed(s):
    random.seed(s)
    np.random.seed(s)


def build(cfg, synth, split='train', pipeline=None):
    init_default_scope('mmdet')
    loader = cfg.train_dataloader if split == 'train' else cfg.val_dataloader
    d = copy.deepcopy(loader.dataset)
    d.data_root = synth
    if pipeline is not None:
        d.pipeline = pipeline
    return DATASETS.build(d)


def _train_transform(cfg, type_name):
    """A transform config of the real train pipeline's TransformBroadcaster."""
    inner = cfg.train_pipeline[1]
    assert inner['type'] == 'TransformBroadcaster' and inner[
        'share_random_params']
    found = [
        copy.deepcopy(t) for t in inner['transforms'] if t['type'] == type_name
    ]
    assert len(found) == 1, type_name
    return found[0]


def clip_pipeline(*extra, pack=True):
    """ClipFrameSample -> shared TransformBroadcaster[load, annotations,
    *extra] (-> pack)."""
    p = [
        dict(type='ClipFrameSample'),
        dict(
            type='TransformBroadcaster',
            share_random_params=True,
            transforms=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadTrackAnnotations', with_mask=True), *extra
            ])
    ]
    if pack:
        p.append(dict(type='PackClipInputs'))
    return p


def _annotations(synth, split='train'):
    with open(osp.join(synth, 'annotations', f'{split}.json')) as f:
        return json.load(f)


def mask_box(mask):
    ys, xs = np.nonzero(mask)
    return np.array(
        [xs.min(), ys.min(), xs.max() + 1,
         ys.max() + 1], np.float32)


# ------------------------------------------------------------------------------------------------
# a training sample of the real pipeline
# ------------------------------------------------------------------------------------------------
def test_train_sample_structure(cfg, synth):
    ds = build(cfg, synth)
    assert len(ds) == 3 and ds.metainfo['classes'] == SYNTHVIS_CLASSES
    raw = _annotations(synth)
    cat_of = {a['id']: a['category_id'] for a in raw['annotations']}
    vid_of = {a['id']: a['video_id'] for a in raw['annotations']}
    _seed(0)
    checked_boxes = 0
    for v in range(len(ds)):
        for key in list(range(ds.get_len_per_video(v))) * 2:
            out = ds[(v, key)]
            inputs, sample = out['inputs'], out['data_samples']
            assert isinstance(sample, TrackDataSample) and len(sample) == T
            assert inputs.ndim == 4 and inputs.shape[:2] == (T, 3)
            # PhotoMetricDistortion (in the config) turns the image into
            # float32; without it the packed clip is uint8 (see
            # test_flip_is_applied_to_every_frame)
            assert inputs.dtype in (torch.uint8, torch.float32)
            h, w = inputs.shape[-2:]
            # RandomCrop to img_scale (w, h) = (224, 128)
            assert h <= 128 and w <= 224
            frames = sample.video_data_samples
            assert sample.key_frames_inds == [[f.frame_id
                                               for f in frames].index(key)]
            fids = [f.frame_id for f in frames]
            assert fids == list(range(fids[0], fids[0] + T)) and key in fids
            # one random draw per clip: same scale, crop size and flip in every
            # frame
            assert len({f.img_shape
                        for f in frames
                        }) == 1 and frames[0].img_shape == (h, w)
            assert len({tuple(np.round(f.scale_factor, 6))
                        for f in frames}) == 1
            assert len({f.flip for f in frames}) == 1
            for f in frames:
                gt = f.gt_instances
                n = len(gt.instances_ids)
                assert len(gt.bboxes) == len(gt.labels) == len(gt.masks) == n
                assert gt.bboxes.shape == (n, 4) and gt.masks.masks.shape == (
                    n, h, w)
                assert f.ori_shape == (FRAME_H, FRAME_W)
                for k in range(n):
                    iid = int(gt.instances_ids[k])
                    assert vid_of[iid] == ds.get_data_info(v)['video_id']
                    assert int(gt.labels[k]) == cat_of[iid] - 1
                    box = gt.bboxes[k].numpy()
                    touches_border = (
                        box[0] <= 0.5 or box[1] <= 0.5 or box[2] >= w - 0.5
                        or box[3] >= h - 0.5)
                    if touches_border or gt.masks.masks[k].sum() == 0:
                        continue
                    np.testing.assert_allclose(
                        mask_box(gt.masks.masks[k]), box, atol=2.0)
                    checked_boxes += 1
    assert checked_boxes > 20


# ------------------------------------------------------------------------------------------------
# clip-consistent augmentation
# ------------------------------------------------------------------------------------------------
def test_flip_is_applied_to_every_frame(cfg, synth):
    plain = build(cfg, synth, pipeline=clip_pipeline())
    flipped = build(
        cfg, synth, pipeline=clip_pipeline(dict(type='RandomFlip', prob=1.0)))
    n_inst = 0
    for v in range(3):
        for key in (0, plain.get_len_per_video(v) - 1):
            _seed(v)
            a = plain[(v, key)]
            _seed(v)
            b = flipped[(v, key)]
            assert a['inputs'].dtype == b['inputs'].dtype == torch.uint8
            assert tuple(a['inputs'].shape) == (T, 3, FRAME_H, FRAME_W)
            assert torch.equal(b['inputs'], torch.flip(a['inputs'], dims=[-1]))
            for fa, fb in zip(a['data_samples'].video_data_samples,
                              b['data_samples'].video_data_samples):
                assert fa.frame_id == fb.frame_id
                assert fb.flip is True and fb.flip_direction == 'horizontal'
                ga, gb = fa.gt_instances, fb.gt_instances
                assert torch.equal(ga.instances_ids, gb.instances_ids)
                assert torch.equal(ga.labels, gb.labels)
                np.testing.assert_array_equal(gb.masks.masks,
                                              ga.masks.masks[:, :, ::-1])
                bx = ga.bboxes.numpy()
                expected = np.stack([
                    FRAME_W - bx[:, 2], bx[:, 1], FRAME_W - bx[:, 0], bx[:, 3]
                ],
                                    axis=1)
                np.testing.assert_allclose(
                    gb.bboxes.numpy(), expected, atol=1e-4)
                n_inst += len(ga.instances_ids)
    assert n_inst > 0


def test_random_flip_shared_within_clip(cfg, synth):
    ds = build(cfg, synth)  # the config pipeline, RandomFlip(prob=0.5)
    _seed(1)
    flips = []
    for draw in range(16):
        out = ds[(draw % 3, 0)]
        clip_flips = [f.flip for f in out['data_samples'].video_data_samples]
        assert len(set(clip_flips)) == 1, clip_flips
        flips.append(clip_flips[0])
    assert set(flips) == {True, False}


def test_photometric_distortion_shared_within_clip(cfg, synth):
    pmd = _train_transform(cfg, 'PhotoMetricDistortion')
    shared = TRANSFORMS.build(
        dict(
            type='TransformBroadcaster',
            share_random_params=True,
            transforms=[copy.deepcopy(pmd)]))
    independent = TRANSFORMS.build(
        dict(
            type='TransformBroadcaster',
            share_random_params=False,
            transforms=[copy.deepcopy(pmd)]))
    frame = build(
        cfg, synth, pipeline=clip_pipeline(pack=False))[(0, 0)]['img'][0]
    any_change, any_differ = False, False
    for s in range(6):
        _seed(s)
        out = shared(dict(img=[frame.copy() for _ in range(T)]))['img']
        assert len(out) == T
        for img in out[1:]:
            np.testing.assert_array_equal(img, out[0])
        any_change |= not np.allclose(out[0], frame)
        _seed(s)
        out = independent(dict(img=[frame.copy() for _ in range(T)]))['img']
        any_differ |= any(not np.array_equal(img, out[0]) for img in out[1:])
    assert any_change  # the distortion does something
    # ... and would differ per frame if its parameters were not shared
    assert any_differ


def _find_offset(full, crop):
    """(y, x) where crop (h, w, 3) lies in full (H, W, 3); asserts it is
    unique."""
    h, w = crop.shape[:2]
    hits = [(y, x) for y in range(full.shape[0] - h + 1)
            for x in range(full.shape[1] - w + 1)
            if np.array_equal(full[y:y + h, x:x + w], crop)]
    assert len(hits) == 1, hits
    return hits[0]


CROP_W, CROP_H = 40, 32


def _crop_draws(cfg, synth, n_reps=2):
    """(uncropped, cropped) results for every (video, key) with the config's
    RandomCrop and a crop much smaller than the frame."""
    crop_cfg = _train_transform(cfg, 'RandomCrop')
    crop_cfg['crop_size'] = (CROP_W, CROP_H)
    plain = build(cfg, synth, pipeline=clip_pipeline(pack=False))
    cropped = build(
        cfg,
        synth,
        pipeline=clip_pipeline(
            crop_cfg, dict(type='FilterEmptyInstances'), pack=False))
    _seed(3)
    for v in range(3):
        for key in range(plain.get_len_per_video(v)):
            for _ in range(n_reps):
                yield plain[(v, key)], cropped[(v, key)]


def test_crop_is_shared_and_keeps_ids_aligned(cfg, synth):
    kept = removed = 0
    offsets = set()
    for a, b in _crop_draws(cfg, synth):
        assert a['frame_id'] == b['frame_id']
        # the same crop window in every frame of the clip
        y, x = _find_offset(a['img'][0], b['img'][0])
        offsets.add((y, x))
        for t in range(T):
            assert b['img'][t].shape == (CROP_H, CROP_W, 3)
            np.testing.assert_array_equal(
                b['img'][t], a['img'][t][y:y + CROP_H, x:x + CROP_W])
            ids_a, ids_b = a['gt_instances_ids'][t], b['gt_instances_ids'][t]
            masks_a = a['gt_masks'][t].masks[:, y:y + CROP_H, x:x + CROP_W]
            # objects whose mask the crop emptied leave together with their
            # id; the others keep their id, label and cropped mask, and their
            # box is the cropped mask's box (recompute_bbox=True)
            inside = masks_a.reshape(len(masks_a), -1).any(1)
            np.testing.assert_array_equal(ids_b, ids_a[inside])
            np.testing.assert_array_equal(b['gt_bboxes_labels'][t],
                                          a['gt_bboxes_labels'][t][inside])
            np.testing.assert_array_equal(b['gt_masks'][t].masks,
                                          masks_a[inside])
            expect_boxes = np.array([mask_box(m) for m in masks_a[inside]],
                                    np.float32).reshape(-1, 4)
            np.testing.assert_allclose(
                b['gt_bboxes'][t], expect_boxes, atol=1.0)
            assert len(b['gt_masks'][t]) == len(ids_b) == len(
                b['gt_bboxes'][t])
            kept += int(inside.sum())
            removed += int((~inside).sum())
    assert kept > 20 and removed > 20
    assert len(offsets) > 5  # the window is random per clip, shared within it


def test_crop_remaining_instances_have_their_mask(cfg, synth):
    """After the crop every remaining instance has a non-empty mask whose
    bounding box is its box (a box overlapping the crop window while its mask
    does not, or a cut shape keeping the clipped box of the uncut shape, is a
    wrong training target)."""
    empty, loose, total = [], [], 0
    for a, b in _crop_draws(cfg, synth, n_reps=1):
        for t in range(T):
            for k, iid in enumerate(b['gt_instances_ids'][t].tolist()):
                total += 1
                m = b['gt_masks'][t].masks[k]
                if m.sum() == 0:
                    empty.append((b['video_id'][t], b['frame_id'][t], iid))
                elif np.abs(mask_box(m) - b['gt_bboxes'][t][k]).max() > 1.0:
                    loose.append(
                        (b['video_id'][t], b['frame_id'][t], iid,
                         b['gt_bboxes'][t][k].tolist(), mask_box(m).tolist()))
    assert total > 20
    assert not empty and not loose, (
        f'of {total} instances kept by the crop, {len(empty)} have an empty '
        f'mask (video, frame, id): {empty[:3]}, and {len(loose)} have a box '
        f"that is not their mask's box (video, frame, id, box, mask box): "
        f'{loose[:2]}')


def test_config_train_dataloader(cfg, synth):
    """The config's train loader (TrackImgSampler +
    TrackAspectRatioBatchSampler) yields batches of T-frame clips, every frame
    of the dataset once as a key frame per epoch."""
    from mmengine.runner import Runner
    init_default_scope('mmdet')
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader_cfg.dataset.data_root = synth
    loader_cfg.update(batch_size=2, num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    num_frames = sum(
        loader.dataset.get_len_per_video(v)
        for v in range(len(loader.dataset)))
    keys = []
    for batch in loader:
        assert len(batch['inputs']) == len(batch['data_samples']) <= 2
        for inputs, sample in zip(batch['inputs'], batch['data_samples']):
            assert inputs.shape[:2] == (T, 3)
            frames = sample.video_data_samples
            key = frames[sample.key_frames_inds[0]]
            keys.append((key.video_id, key.frame_id))
    assert len(keys) == num_frames and len(set(keys)) == num_frames


# ------------------------------------------------------------------------------------------------
# test pipeline
# ------------------------------------------------------------------------------------------------
def test_test_pipeline_clips(cfg, synth):
    ds = build(cfg, synth, split='val')
    assert ds.test_mode and len(ds) == 2
    assert ds.clip_len == 3 and ds.clip_overlap == 1
    raw = _annotations(synth, 'valid')
    indices = list(VideoClipSampler(ds))
    assert indices == [(v, c) for v in range(2)
                       for c in range(ds.num_clips(v))]
    outputs = {v: [] for v in range(2)}
    for v, c in indices:
        length = ds.get_len_per_video(v)
        assert length == raw['videos'][v]['length']
        expected = video_clip(length, c, 3, 1)
        out = ds[(v, c)]
        # Resize (w, h) = (224, 128) keep_ratio on 64x96:
        # factor min(224 / 96, 128 / 64) = 2
        assert tuple(out['inputs'].shape) == (T, 3, 128, 192)
        frames = out['data_samples'].video_data_samples
        assert len(frames) == T
        for k, f in enumerate(frames):
            assert f.clip_index == c
            assert 'num_clips' not in f  # nothing reads it: not packed
            assert f.is_last_clip == expected.is_last
            assert f.is_new_frame == expected.is_new[k]
            assert f.is_output_frame == expected.is_output[k]
            assert f.is_pad_frame == expected.is_pad[k]
            assert f.frame_id == expected.frame_inds[k]
            assert f.ori_video_length == length
            assert f.video_length == T
            assert f.video_id == raw['videos'][v]['id']
            assert f.ori_shape == (FRAME_H, FRAME_W) and f.img_shape == (128,
                                                                         192)
            assert f.img_path == osp.join(
                synth, 'valid/JPEGImages',
                raw['videos'][v]['file_names'][f.frame_id])
            # raw ground truth for the metric, in the metainfo
            assert isinstance(f.instances, list)
            if f.is_output_frame:
                outputs[v].append(f.frame_id)
    for v in range(2):
        assert outputs[v] == list(range(ds.get_len_per_video(v)))


def test_authors_train_pipeline(synth):
    """The main configs' training pipeline (the authors': vertical flip,
    fit into 640 x 384, expand, inclusive json corners) on SynthVIS: 64 x
    96 frames fit at x6 -> 384 x 576 (the expand keeps the size), one
    flip per clip and always vertical, every box inside the frame and
    aligned with its id, label and mask; without flip or expand (seen
    from the masks) a box is 6 x the json's inclusive corners."""
    base = Config.fromfile(
        str(REPO_ROOT / 'configs' / '_base_' / 'datasets' /
            'youtube_vis_2019.py'))
    d = copy.deepcopy(base.train_dataloader.dataset)
    d.update(
        type='SynthVISDataset',
        data_root=synth,
        ann_file='annotations/train.json',
        data_prefix=dict(img_path='train/JPEGImages'))
    init_default_scope('mmdet')
    ds = DATASETS.build(d)
    raw = _annotations(synth)
    cat_of = {a['id']: a['category_id'] for a in raw['annotations']}
    json_box = {
        (a['id'], t): b
        for a in raw['annotations']
        for t, b in enumerate(a['bboxes']) if b
    }
    _seed(0)
    flips, exact = set(), 0
    for v in range(len(ds)):
        for key in range(ds.get_len_per_video(v)):
            sample = ds[(v, key)]['data_samples']
            frames = sample.video_data_samples
            assert {f.img_shape for f in frames} == {(384, 576)}
            assert len({(f.flip, f.flip_direction) for f in frames}) == 1
            flips.add(frames[0].flip_direction if frames[0].flip else None)
            for f in frames:
                gt = f.gt_instances
                n = len(gt.instances_ids)
                assert len(gt.bboxes) == len(gt.labels) == len(gt.masks) == n
                boxes = gt.bboxes.numpy()
                assert (boxes[:, :2] >= 0).all()
                assert (boxes[:, 2] <= 576).all() and (boxes[:, 3]
                                                       <= 384).all()
                for k in range(n):
                    iid = int(gt.instances_ids[k])
                    assert int(gt.labels[k]) == cat_of[iid] - 1
                    x, y, w, h = json_box[(iid, f.frame_id)]
                    ours = np.array([x, y, x + w - 1, y + h - 1]) * 6
                    if not f.flip and np.allclose(boxes[k], ours, atol=1e-3):
                        exact += 1
    assert flips == {None, 'vertical'}
    assert exact > 10
