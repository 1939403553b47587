"""Tests of the SynthVIS generator
(tools/dataset_converters/synthvis_generator.py) and its CLI."""
import json
import os.path as osp
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from projects.cico.datasets.synthvis_meta import SYNTHVIS_CLASSES
from tools.dataset_converters import synthvis_generator
from tools.dataset_converters.synthvis_generator import generate_synthvis

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = REPO_ROOT / 'tools' / 'dataset_converters' / 'make_synthvis.py'
TINY = dict(train_videos=3, val_videos=2, frames=(4, 6), size=(64, 96))
LARGER = dict(train_videos=8, val_videos=2, frames=(6, 10), size=(64, 96))
SPLITS = ('train', 'valid')


def _load(out_dir: Path, split: str) -> dict:
    with open(out_dir / 'annotations' / f'{split}.json') as f:
        return json.load(f)


def _json_bytes(out_dir: Path) -> dict:
    return {
        s: (out_dir / 'annotations' / f'{s}.json').read_bytes()
        for s in SPLITS
    }


def _frames(out_dir: Path) -> dict:
    """Relative path -> decoded image of every frame."""
    return {
        str(p.relative_to(out_dir)): cv2.imread(str(p))
        for p in sorted(out_dir.glob('*/JPEGImages/*/*.jpg'))
    }


@pytest.fixture(scope='module')
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('synthvis_tiny')
    generate_synthvis(str(out), seed=0, **TINY)
    return out


@pytest.fixture(scope='module')
def larger(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('synthvis_larger')
    generate_synthvis(str(out), seed=1, **LARGER)
    return out


def test_generator_draws_the_dataset_classes():
    # the generator keeps its own copy (it does not import projects.cico)
    assert synthvis_generator.SYNTHVIS_CLASSES == SYNTHVIS_CLASSES
    assert len(synthvis_generator._SHAPES) == len(SYNTHVIS_CLASSES)


def test_summary(tmp_path):
    summary = generate_synthvis(str(tmp_path), seed=0, **TINY)
    assert summary['classes'] == SYNTHVIS_CLASSES
    assert summary['train']['videos'] == 3 and summary['valid']['videos'] == 2
    for split in SPLITS:
        assert osp.isfile(summary[split]['ann_file'])
        data = _load(tmp_path, split)
        assert summary[split]['frames'] == sum(v['length']
                                               for v in data['videos'])
        assert summary[split]['instances'] == len(data['annotations'])


def test_determinism(tiny, tmp_path):
    same = tmp_path / 'same'
    generate_synthvis(str(same), seed=0, **TINY)
    assert _json_bytes(same) == _json_bytes(tiny)
    a, b = _frames(tiny), _frames(same)
    assert list(a) == list(b) and len(a) > 0
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])

    other = tmp_path / 'other'
    generate_synthvis(str(other), seed=7, **TINY)
    assert _json_bytes(other)['train'] != _json_bytes(tiny)['train']
    c = _frames(other)
    common = sorted(set(a) & set(c))
    assert common and any(not np.array_equal(a[n], c[n]) for n in common)


def test_num_workers_identical(tiny, tmp_path):
    out = tmp_path / 'workers'
    generate_synthvis(str(out), seed=0, num_workers=2, **TINY)
    assert _json_bytes(out) == _json_bytes(tiny)
    a, b = _frames(tiny), _frames(out)
    assert list(a) == list(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


@pytest.mark.parametrize('split', SPLITS)
def test_json_structure(tiny, split):
    data = _load(tiny, split)
    assert set(data) >= {
        'info', 'licenses', 'videos', 'annotations', 'categories'
    }
    assert [c['id'] for c in data['categories']
            ] == list(range(1,
                            len(SYNTHVIS_CLASSES) + 1))
    assert [c['name'] for c in data['categories']] == list(SYNTHVIS_CLASSES)
    assert all(c['supercategory'] == 'shape' for c in data['categories'])

    height, width = TINY['size']
    videos = {v['id']: v for v in data['videos']}
    assert sorted(videos) == list(range(1, len(data['videos']) + 1))
    for index, video in enumerate(data['videos'], start=1):
        name = f'synth_{split}_{index:04d}'
        assert (video['height'], video['width']) == (height, width)
        assert TINY['frames'][0] <= video['length'] <= TINY['frames'][1]
        assert video['file_names'] == [
            f'{name}/{t:05d}.jpg' for t in range(video['length'])
        ]
        for fname in video['file_names']:
            img = cv2.imread(str(tiny / split / 'JPEGImages' / fname))
            assert img is not None and img.shape == (height, width, 3)

    ann_ids = [a['id'] for a in data['annotations']]
    assert ann_ids == list(range(1, len(ann_ids) + 1))
    for ann in data['annotations']:
        video = videos[ann['video_id']]
        length = video['length']
        assert 1 <= ann['category_id'] <= len(SYNTHVIS_CLASSES)
        assert ann['iscrowd'] == 0
        assert (ann['height'], ann['width'], ann['length']) == (height, width,
                                                                length)
        for key in ('bboxes', 'areas', 'segmentations'):
            assert len(ann[key]) == length
        assert any(s is not None for s in ann['segmentations'])
        for box, area, seg in zip(ann['bboxes'], ann['areas'],
                                  ann['segmentations']):
            assert (box is None) == (area is None) == (seg is None)
            if seg is None:
                continue
            assert seg['size'] == [height, width] and isinstance(
                seg['counts'], str)
            assert list(mask_utils.toBbox(seg)) == pytest.approx(box)
            mask = mask_utils.decode(seg)
            assert mask.shape == (height, width)
            assert int(mask.sum()) == area > 0
            ys, xs = np.nonzero(mask)
            assert box == pytest.approx([
                xs.min(),
                ys.min(),
                xs.max() - xs.min() + 1,
                ys.max() - ys.min() + 1
            ])


def test_null_entries_exist(larger):
    nulls = sum(
        s is None for split in SPLITS
        for a in _load(larger, split)['annotations']
        for s in a['segmentations'])
    assert nulls > 0


def test_visible_masks_do_not_overlap(larger):
    checked = 0
    for split in SPLITS:
        data = _load(larger, split)
        for video in data['videos']:
            anns = [
                a for a in data['annotations'] if a['video_id'] == video['id']
            ]
            for t in range(video['length']):
                masks = [
                    mask_utils.decode(a['segmentations'][t]).astype(np.int32)
                    for a in anns if a['segmentations'][t] is not None
                ]
                if len(masks) > 1:
                    assert np.sum(masks, axis=0).max() == 1
                    checked += 1
    assert checked > 0


def test_classes_are_not_colours(larger):
    """Objects of one class get different colours (colour carries no class
    information)."""
    data = _load(larger, 'train')
    videos = {v['id']: v for v in data['videos']}
    colours = {}
    for ann in data['annotations']:
        t = max(range(len(ann['areas'])), key=lambda k: ann['areas'][k] or 0)
        img = cv2.imread(
            str(larger / 'train' / 'JPEGImages' /
                videos[ann['video_id']]['file_names'][t]))
        mask = mask_utils.decode(ann['segmentations'][t]).astype(bool)
        colours.setdefault(ann['category_id'],
                           []).append(img[mask].mean(axis=0))
    spreads = [
        np.ptp(np.stack(c), axis=0).max() for c in colours.values()
        if len(c) > 1
    ]
    assert spreads and max(spreads) > 30


@pytest.mark.parametrize('kwargs, match', [
    (dict(frames=(5, 3)), 'min'),
    (dict(frames=(0, 3)), '>= 1'),
    (dict(size=(16, 96)), 'too small'),
    (dict(train_videos=-1), 'train_videos'),
    (dict(num_workers=-2), 'num_workers'),
])
def test_invalid_arguments(tmp_path, kwargs, match):
    args = dict(TINY, **kwargs)
    with pytest.raises(ValueError, match=match):
        generate_synthvis(str(tmp_path), **args)


def test_cli(tmp_path):
    out = tmp_path / 'cli'
    base = [
        sys.executable,
        str(CLI), '--out',
        str(out), '--train-videos', '2', '--val-videos', '1', '--size', '64',
        '96', '--seed', '0'
    ]
    res = subprocess.run(
        base + ['--frames', '3', '4'],
        capture_output=True,
        text=True,
        cwd=str(REPO_ROOT))
    assert res.returncode == 0, res.stderr
    assert 'done in' in res.stdout
    for split, count in (('train', 2), ('valid', 1)):
        data = _load(out, split)
        assert len(data['videos']) == count
        for video in data['videos']:
            for fname in video['file_names']:
                assert (out / split / 'JPEGImages' / fname).is_file()

    bad = subprocess.run(
        base + ['--frames', '5', '3'],
        capture_output=True,
        text=True,
        cwd=str(REPO_ROOT))
    assert bad.returncode != 0 and 'frames' in bad.stderr


def test_scene_settings_set_object_count_and_size(tmp_path):
    """--objects / --radius: every video holds 2 objects (both visible
    somewhere), and their largest visible area stays under the disk of the
    largest radius; the defaults reproduce the historical dataset."""
    scene = synthvis_generator.SceneSettings(objects=(2, 2), radius=(0.3, 0.3))
    generate_synthvis(str(tmp_path / 's'), **dict(TINY, scene=scene))
    data = _load(tmp_path / 's', 'train')
    per_video = {}
    for ann in data['annotations']:
        per_video[ann['video_id']] = per_video.get(ann['video_id'], 0) + 1
    assert set(per_video.values()) <= {1, 2} and 2 in per_video.values()
    side = min(TINY['size'])
    # circumradius 0.3 * side, scale up to 1.25, aspect up to 1.25
    bound = np.pi * (0.3 * side * 1.25 * 1.25)**2
    assert max(
        max(a for a in ann['areas'] if a)
        for ann in data['annotations']) < bound
    generate_synthvis(
        str(tmp_path / 'd'),
        **dict(TINY, scene=synthvis_generator.SceneSettings()))
    generate_synthvis(str(tmp_path / 'n'), **TINY)
    assert _load(tmp_path / 'd', 'train') == _load(tmp_path / 'n', 'train')


def test_always_visible_objects(tmp_path):
    """always_visible=True: every object is present in every frame of its
    video and its box never touches the frame border (nothing enters,
    leaves, appears late or vanishes early); objects may still occlude
    each other, so a box can shrink but never to nothing."""
    scene = synthvis_generator.SceneSettings(
        objects=(1, 2), radius=(0.15, 0.22), always_visible=True)
    generate_synthvis(
        str(tmp_path / 'v'),
        train_videos=6,
        val_videos=0,
        frames=(8, 8),
        size=(96, 160),
        seed=0,
        scene=scene)
    data = _load(tmp_path / 'v', 'train')
    assert len(data['annotations']) >= 6
    for ann in data['annotations']:
        assert all(b is not None for b in ann['bboxes']), ann['id']
        for x, y, w, h in ann['bboxes']:
            assert x >= 1 and y >= 1 and x + w <= 159 and y + h <= 95
    with pytest.raises(ValueError, match='does not fit'):
        generate_synthvis(
            str(tmp_path / 'big'),
            train_videos=1,
            val_videos=0,
            frames=(4, 4),
            size=(32, 32),
            seed=0,
            scene=synthvis_generator.SceneSettings(
                radius=(0.5, 0.5), always_visible=True))


@pytest.mark.parametrize('kwargs, match', [
    (dict(objects=(0, 2)), 'objects'),
    (dict(objects=(3, 2)), 'objects'),
    (dict(radius=(0.0, 0.2)), 'radius'),
    (dict(radius=(0.3, 0.6)), 'radius'),
])
def test_invalid_scene_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        synthvis_generator.SceneSettings(**kwargs)
