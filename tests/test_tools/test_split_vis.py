"""tools/dataset_converters/split_vis.py: whole-video train_sub / valid_sub
split of a VIS training json (official and CocoVID formats)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tools.dataset_converters import split_vis

REPO_ROOT = Path(__file__).resolve().parents[2]
CATEGORIES = [dict(id=1, name='cat'), dict(id=4, name='dog')]
# json order differs from id order: --last takes the json's last videos
VIDEO_IDS = [
    3, 1, 2, 20, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 4
]


def official_json(video_ids=VIDEO_IDS):
    """Video ``v`` has ``v % 3 + 1`` frames and ``v % 2 + 1`` objects
    (annotation ids ``100 v + k``)."""
    videos, anns = [], []
    for v in video_ids:
        n = v % 3 + 1
        videos.append(
            dict(
                id=v,
                width=8,
                height=6,
                length=n,
                file_names=[f'v{v}/{t}.jpg' for t in range(n)]))
        for k in range(v % 2 + 1):
            anns.append(
                dict(
                    id=100 * v + k,
                    video_id=v,
                    category_id=4,
                    iscrowd=0,
                    bboxes=[[0, 0, 2, 2]] * n,
                    areas=[4] * n,
                    segmentations=[[[0, 0, 2, 0, 2, 2, 0, 2]]] * n))
    return dict(
        info=dict(description='toy'),
        licenses=[],
        videos=videos,
        annotations=anns,
        categories=CATEGORIES)


def write(tmp_path, data, name='train.json'):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def run(path, *args):
    out_train, out_val = split_vis.main([str(path), *args])
    return (json.loads(Path(out_train).read_text()),
            json.loads(Path(out_val).read_text()))


def test_counts_whole_videos_categories_and_ids(tmp_path, capsys):
    data = official_json()
    path = write(tmp_path, data)
    train, val = run(path, '--val-ratio', '0.1')
    out = capsys.readouterr().out.splitlines()
    # 20 videos (ids 1..20): 41 frames (six cycles 2+3+1 for ids 1..18, then
    # 2 + 3), 30 objects (2 per odd id, 1 per even id); 2 held out: seed 0
    # picks 13 (2 frames, 2 objects) and 14 (3 frames, 1 object)
    val_ids = [v['id'] for v in val['videos']]
    assert val_ids == [13, 14]
    assert [a['id'] for a in val['annotations']] == [1300, 1301, 1400]
    assert out == [
        f'{path}: 20 videos, 41 frames, 30 instances; held out 2 videos '
        '(random, seed 0, --val-ratio 0.1)',
        f'{tmp_path / "train_sub.json"}: 18 videos, 36 frames, 27 instances',
        f'{tmp_path / "valid_sub.json"}: 2 videos, 5 frames, 3 instances',
    ]
    # whole videos, each on exactly one side, in json order, ids unchanged
    for part in (train, val):
        ids = {v['id'] for v in part['videos']}
        assert all(a['video_id'] in ids for a in part['annotations'])
        assert part['categories'] == CATEGORIES
        assert part['info'] == data['info'] and part['licenses'] == []
    assert [v for v in data['videos'] if v['id'] not in val_ids] == \
        train['videos']
    assert sorted(a['id'] for a in train['annotations'] +
                  val['annotations']) == sorted(a['id']
                                                for a in data['annotations'])
    assert [a for a in data['annotations'] if a['video_id'] in val_ids] == \
        val['annotations']


def test_last_holds_out_the_last_tenth(tmp_path):
    train, val = run(write(tmp_path, official_json()), '--last')
    # the json's last two videos, whatever their ids
    assert [v['id'] for v in val['videos']] == [19, 4]
    assert [a['id'] for a in val['annotations']] == [1900, 1901, 400]
    assert [v['id'] for v in train['videos']] == VIDEO_IDS[:18]


def test_seeded_split_is_deterministic(tmp_path):
    path = write(tmp_path, official_json())
    first = run(path, '--seed', '3')
    assert run(path, '--seed', '3') == first
    assert run(path) == run(path, '--seed', '0')
    # random.Random(seed).sample is stable across Python versions
    assert split_vis.choose_val_videos(VIDEO_IDS, 0.1, seed=0) == [13, 14]
    assert split_vis.choose_val_videos(VIDEO_IDS, 0.1, seed=1) == [5, 19]
    assert [v['id'] for v in first[1]['videos']] == [8, 19]


def test_number_of_held_out_videos():
    n = split_vis.num_val_videos
    assert n(2238, 0.1) == 224  # 223.8 rounds to 224
    assert n(25, 0.1) == 3  # 2.5: halves up
    assert n(24, 0.1) == 2  # 2.4
    assert n(5, 0.1) == 1  # 0.5, and never 0
    assert n(3, 0.9) == 2  # 2.7 -> 3, but one video stays in train
    with pytest.raises(ValueError, match=r'--val-ratio must be in \(0, 1\)'):
        n(10, 1.0)
    with pytest.raises(ValueError, match='1 video'):
        n(1, 0.5)


def test_out_dir_and_cocovid_format(tmp_path, capsys):
    """CocoVID: one image per frame, one annotation per object and frame;
    images and annotations follow their videos."""
    videos = [dict(id=v, name=f'v{v}') for v in (1, 2, 3, 4)]
    images = [
        dict(
            id=10 * v + t,
            video_id=v,
            frame_id=t,
            file_name=f'{v}/{t}.jpg',
            width=8,
            height=6) for v in (1, 2, 3, 4) for t in range(v)
    ]
    anns = [
        dict(
            id=1000 + i['id'],
            image_id=i['id'],
            instance_id=i['video_id'],
            category_id=1,
            bbox=[0, 0, 2, 2],
            area=4,
            iscrowd=0) for i in images
    ]
    path = write(
        tmp_path,
        dict(
            videos=videos,
            images=images,
            annotations=anns,
            categories=CATEGORIES))
    out_dir = tmp_path / 'split'
    train, val = run(path, '--last', '--val-ratio', '0.25', '--out-dir',
                     str(out_dir))
    assert (out_dir / 'valid_sub.json').is_file()
    assert [v['id'] for v in val['videos']] == [4]
    assert [i['id'] for i in val['images']] == [40, 41, 42, 43]
    assert [a['id'] for a in val['annotations']] == [1040, 1041, 1042, 1043]
    assert [i['id'] for i in train['images']] == [10, 20, 21, 30, 31, 32]
    assert capsys.readouterr().out.splitlines()[1:] == [
        f'{out_dir / "train_sub.json"}: 3 videos, 6 frames, 3 instances (6 '
        'frame annotations)',
        f'{out_dir / "valid_sub.json"}: 1 videos, 4 frames, 1 instances (4 '
        'frame annotations)',
    ]


def error_of(capsys, *argv):
    with pytest.raises(SystemExit) as exc:
        split_vis.main([str(a) for a in argv])
    assert exc.value.code == 2
    return capsys.readouterr().err


def test_clear_errors(tmp_path, capsys):
    bad = tmp_path / 'bad.json'
    bad.write_text('{"videos": [')
    err = error_of(capsys, bad)
    assert f'{bad}: not a valid json file' in err
    err = error_of(capsys, tmp_path / 'missing.json')
    assert f'{tmp_path / "missing.json"}: no such file' in err
    path = write(tmp_path, dict(annotations=[]), 'novideos.json')
    assert 'not a VIS annotation file (expected an object with a "videos" ' \
        'list)' in error_of(capsys, path)
    data = official_json([1, 2, 3])
    data['annotations'][0]['video_id'] = 99
    path = write(tmp_path, data, 'orphan.json')
    assert f'{path}: annotation 100 refers to video_id 99, which is not in ' \
        '"videos"' in error_of(capsys, path)
    path = write(tmp_path, official_json([1, 2, 2]), 'dup.json')
    assert f'{path}: duplicate video ids [2]' in error_of(capsys, path)
    path = write(tmp_path, official_json())
    assert '--val-ratio must be in (0, 1), got 1.5' in error_of(
        capsys, path, '--val-ratio', '1.5')
    # the input is never overwritten
    path = write(tmp_path, official_json(), 'valid_sub.json')
    assert 'the input would be overwritten' in error_of(capsys, path)
    # --seed and --last exclude each other
    assert 'not allowed with argument' in error_of(capsys, path, '--last',
                                                   '--seed', '1')


def test_command_line(tmp_path):
    path = write(tmp_path, official_json())
    tool = 'tools/dataset_converters/split_vis.py'
    cmd = [sys.executable, tool, str(path), '--last']
    proc = subprocess.run(
        cmd, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert 'held out 2 videos (last, --val-ratio 0.1)' in proc.stdout
    assert json.loads(
        (tmp_path / 'valid_sub.json').read_text())['videos'][0]['id'] == 19
