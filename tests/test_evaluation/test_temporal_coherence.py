"""Tests of T-BIoU / T-MIoU (paper Eq. 3 + Sec. 3.2 averaging) and the
Fig. 3 CLI."""
import copy
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from projects.cico.evaluation.temporal_coherence import (proportion_at_least,
                                                         temporal_coherence)

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = REPO_ROOT / 'tools' / 'analysis_tools' / 'temporal_coherence.py'
H = W = 40
SIDE = 10  # every object is a SIDE x SIDE square


def _square(x: int, y: int) -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[y:y + SIDE, x:x + SIDE] = 1
    return mask


def _compressed_rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask))
    return {'size': [H, W], 'counts': rle['counts'].decode('ascii')}


def _uncompressed_rle(mask: np.ndarray) -> dict:
    """Run lengths of the column-major mask, starting with a (possibly
    empty) run of zeros."""
    flat = mask.flatten(order='F')
    counts, current, run = [], 0, 0
    for v in flat:
        if v == current:
            run += 1
        else:
            counts.append(run)
            current, run = v, 1
    counts.append(run)
    return {'size': [H, W], 'counts': counts}


def _polygon(x: int, y: int) -> list:
    return [[x, y, x + SIDE, y, x + SIDE, y + SIDE, x, y + SIDE]]


def _box(x: int, y: int) -> list:
    return [float(x), float(y), float(SIDE), float(SIDE)]


def _make_ann() -> dict:
    """Video 1: A, a square shifting 5 px/frame. Video 2: B, moving 2 then
    5 px, absent in the last frame; C, static (polygons)."""
    a_x, a_y = [0, 5, 10], 0
    b_x, b_y = [0, 2, 7, None], 10
    c_xy = (20, 20)
    videos = [
        dict(
            id=1,
            width=W,
            height=H,
            length=3,
            file_names=[f'v1/{t:05d}.jpg' for t in range(3)]),
        dict(
            id=2,
            width=W,
            height=H,
            length=4,
            file_names=[f'v2/{t:05d}.jpg' for t in range(4)]),
    ]
    ann_a = dict(
        id=1,
        video_id=1,
        category_id=1,
        iscrowd=0,
        height=H,
        width=W,
        length=3,
        bboxes=[_box(x, a_y) for x in a_x],
        segmentations=[_compressed_rle(_square(x, a_y)) for x in a_x],
        areas=[SIDE * SIDE] * 3)
    ann_b = dict(
        id=2,
        video_id=2,
        category_id=2,
        iscrowd=0,
        height=H,
        width=W,
        length=4,
        bboxes=[None if x is None else _box(x, b_y) for x in b_x],
        segmentations=[
            None if x is None else _uncompressed_rle(_square(x, b_y))
            for x in b_x
        ],
        areas=[None if x is None else SIDE * SIDE for x in b_x])
    ann_c = dict(
        id=3,
        video_id=2,
        category_id=3,
        iscrowd=0,
        height=H,
        width=W,
        length=4,
        bboxes=[_box(*c_xy)] * 4,
        segmentations=[_polygon(*c_xy)] * 4,
        areas=[SIDE * SIDE] * 4)
    return dict(
        info={},
        licenses=[],
        videos=videos,
        annotations=[ann_a, ann_b, ann_c],
        categories=[
            dict(id=i, name=f'c{i}', supercategory='x') for i in (1, 2, 3)
        ])


# Hand-computed (annotation order A, B, C; frames ascending).
# delta=1  A: shift 5 -> 50/150 at every frame (t=1 averages 1/3 and 1/3).
#          B: t0 -> t1 only: 80/120; t1 averages t0 (2/3) and t2
#             (shift 5: 1/3) = 1/2;
#             t2 -> t1 only (t3 absent): 1/3; t3 absent: nothing.
#          C: 1 at each of the 4 frames.
# delta=2  A: t0 <-> t2 shift 10: 0 (twice); t1 has no t-2/t+2: nothing.
#          B: t0 <-> t2 shift 7: 30/170 (twice); t1: t3 absent, t-1
#             outside: nothing.
#          C: 1 at each frame.
EXPECTED = {
    1: [1 / 3, 1 / 3, 1 / 3, 2 / 3, 1 / 2, 1 / 3, 1, 1, 1, 1],
    2: [0, 0, 3 / 17, 3 / 17, 1, 1, 1, 1],
}


@pytest.mark.parametrize('delta', [1, 2])
def test_exact_values(delta):
    res = temporal_coherence(_make_ann(), deltas=(delta, ))
    assert set(res) == {delta}
    assert res[delta]['biou'] == pytest.approx(EXPECTED[delta], abs=1e-12)
    assert res[delta]['miou'] == pytest.approx(EXPECTED[delta], abs=1e-12)


def test_large_delta_and_from_file(tmp_path):
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(_make_ann()))
    res = temporal_coherence(str(path), deltas=(1, 2, 3, 4))
    assert res[1]['biou'] == pytest.approx(EXPECTED[1])
    # delta=3: only C (t0 <-> t3); B's t0 would pair with its absent t3.
    assert res[3]['biou'] == pytest.approx(
        [1, 1]) and res[3]['miou'] == pytest.approx([1, 1])
    assert res[4]['biou'].size == 0 and res[4]['miou'].size == 0


def test_box_only_annotations():
    ann = _make_ann()
    for a in ann['annotations']:
        del a['segmentations']
    res = temporal_coherence(ann, deltas=(1, ))
    assert res[1]['biou'] == pytest.approx(EXPECTED[1])
    assert res[1]['miou'].size == 0


def test_mask_iou_differs_from_box_iou():
    """An L-shaped mask whose box equals the square's box: T-BIoU 1,
    T-MIoU < 1."""
    ann = _make_ann()
    ann['annotations'] = [ann['annotations'][0]]
    ann['videos'] = [ann['videos'][0]]
    full = _square(0, 0)
    ell = full.copy()
    ell[:SIDE // 2,
        SIDE // 2:SIDE] = 0  # remove a quarter: 75 pixels, same bounding box
    a = ann['annotations'][0]
    a['bboxes'] = [_box(0, 0)] * 3
    a['segmentations'] = [
        _compressed_rle(full),
        _compressed_rle(ell),
        _compressed_rle(full)
    ]
    res = temporal_coherence(ann, deltas=(1, ))
    assert res[1]['biou'] == pytest.approx([1, 1, 1])
    assert res[1]['miou'] == pytest.approx([0.75, 0.75, 0.75])


def test_proportion_at_least():
    assert proportion_at_least([0.75, 0.5, 1.0, 0.7499]) == pytest.approx(0.5)
    assert proportion_at_least(np.array(EXPECTED[1])) == pytest.approx(0.4)
    assert proportion_at_least([0.2, 0.4], thr=0.3) == pytest.approx(0.5)
    assert math.isnan(proportion_at_least([]))


def test_errors(tmp_path):
    missing = tmp_path / 'nope.json'
    with pytest.raises(FileNotFoundError, match='nope.json'):
        temporal_coherence(str(missing))

    broken = tmp_path / 'broken.json'
    broken.write_text('{"videos": [')
    with pytest.raises(ValueError, match='broken.json'):
        temporal_coherence(str(broken))

    ann = _make_ann()
    ann['annotations'][1]['bboxes'] = ann['annotations'][1]['bboxes'][:3]
    bad = tmp_path / 'bad_length.json'
    bad.write_text(json.dumps(ann))
    with pytest.raises(
            ValueError,
            match=r'bad_length\.json.*video id 2.*annotation id 2'):
        temporal_coherence(str(bad))

    ann = copy.deepcopy(_make_ann())
    ann['annotations'][0]['video_id'] = 99
    with pytest.raises(ValueError, match='video id 99'):
        temporal_coherence(ann)

    with pytest.raises(ValueError, match='deltas'):
        temporal_coherence(_make_ann(), deltas=(0, ))


def test_cli(tmp_path):
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(_make_ann()))
    fig = tmp_path / 'figs' / 'coherence.png'
    res = subprocess.run([
        sys.executable,
        str(CLI),
        str(path), '--deltas', '1', '2', '--out',
        str(fig)
    ],
                         capture_output=True,
                         text=True,
                         cwd=str(REPO_ROOT))
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        'delta=1 PB>=0.75=0.400 PM>=0.75=0.400',
        'delta=2 PB>=0.75=0.500 PM>=0.75=0.500'
    ]
    assert fig.is_file() and fig.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'

    res = subprocess.run(
        [sys.executable,
         str(CLI), str(tmp_path / 'missing.json')],
        capture_output=True,
        text=True,
        cwd=str(REPO_ROOT))
    assert res.returncode != 0 and 'missing.json' in res.stderr
