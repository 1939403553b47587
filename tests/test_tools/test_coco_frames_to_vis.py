"""tools/dataset_converters/coco_frames_to_vis.py: per-frame COCO json with
track ids -> official VIS json, on a per-frame COCO set built from SynthVIS.
"""
import copy
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

from projects.cico.datasets import VISDataset
from tools.dataset_converters.coco_frames_to_vis import convert, convert_file
from tools.dataset_converters.synthvis_generator import generate_synthvis

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOL = 'tools/dataset_converters/coco_frames_to_vis.py'
# the 6 SynthVIS shapes grouped into 3 classes (category ids 1..3)
THREE_CLASSES = ('round', 'polygon', 'pointy')
SHAPE_TO_3 = {1: 1, 6: 1, 2: 2, 5: 2, 3: 3, 4: 3}


def vis_to_coco_frames(vis: dict,
                       cat_map: Dict[int, int] = SHAPE_TO_3,
                       classes=THREE_CLASSES) -> dict:
    """An official VIS json -> per-frame COCO json (one image per frame,
    one annotation per visible object with its ``instance_id``)."""
    images, annotations, img_ids = [], [], {}
    for video in vis['videos']:
        for t, name in enumerate(video['file_names']):
            img_ids[(video['id'], t)] = len(images) + 1
            images.append(
                dict(
                    id=len(images) + 1,
                    file_name=name,
                    height=video['height'],
                    width=video['width']))
    for ann in vis['annotations']:
        for t, box in enumerate(ann['bboxes']):
            if box is None:
                continue
            annotations.append(
                dict(
                    id=len(annotations) + 1,
                    image_id=img_ids[(ann['video_id'], t)],
                    category_id=cat_map[ann['category_id']],
                    instance_id=1000 + ann['id'],
                    bbox=box,
                    area=ann['areas'][t],
                    segmentation=ann['segmentations'][t],
                    iscrowd=0))
    categories = [dict(id=i, name=n) for i, n in enumerate(classes, start=1)]
    return dict(images=images, annotations=annotations, categories=categories)


def build_coco_frames_set(root: Path) -> dict:
    """SynthVIS (official) plus its per-frame COCO version, 3 classes:
    ``annotations/{train,valid}_frames.json``."""
    info = generate_synthvis(
        str(root),
        train_videos=3,
        val_videos=2,
        frames=(3, 4),
        size=(64, 96),
        seed=0)
    out = dict(root=root, info=info)
    for split in ('train', 'valid'):
        with open(info[split]['ann_file']) as f:
            vis = json.load(f)
        coco = vis_to_coco_frames(vis)
        path = root / 'annotations' / f'{split}_frames.json'
        path.write_text(json.dumps(coco))
        out[split] = dict(vis=vis, coco=coco, frames_json=path)
    return out


@pytest.fixture(scope='module')
def frames_set(tmp_path_factory) -> dict:
    return build_coco_frames_set(tmp_path_factory.mktemp('cocoframes'))


def test_roundtrip_matches_synthvis(frames_set, tmp_path):
    src = frames_set['train']['frames_json']
    dst = tmp_path / 'train.json'
    img_dir = frames_set['root'] / 'train' / 'JPEGImages'
    counts = convert_file(str(src), str(dst), img_dir=str(img_dir))
    orig = frames_set['train']['vis']
    out = json.loads(dst.read_text())
    assert counts['videos'] == len(orig['videos']) == 3
    assert counts['frames'] == sum(v['length'] for v in orig['videos'])
    assert counts['tracks'] == len(orig['annotations'])
    assert counts['frame_annotations'] == len(
        frames_set['train']['coco']['annotations'])
    assert [v['file_names'] for v in out['videos']] == \
        [v['file_names'] for v in orig['videos']]
    for new, old in zip(out['annotations'], orig['annotations']):
        assert new['video_id'] == old['video_id']
        assert new['category_id'] == SHAPE_TO_3[old['category_id']]
        assert new['bboxes'] == old['bboxes']  # None where absent
        assert new['segmentations'] == old['segmentations']
        assert new['length'] == len(new['bboxes'])
    assert [c['name'] for c in out['categories']] == list(THREE_CLASSES)


def test_frames_sorted_numerically_whatever_the_input_order(frames_set):
    coco = copy.deepcopy(frames_set['train']['coco'])
    random.Random(0).shuffle(coco['images'])
    out = convert(coco)
    for video, orig in zip(out['videos'],
                           frames_set['train']['vis']['videos']):
        assert video['file_names'] == orig['file_names']
    # frame numbers without zero padding still sort numerically
    coco = dict(
        images=[
            dict(id=i, file_name=f'v/{n}.jpg', height=8, width=8)
            for i, n in enumerate((10, 9, 100), start=1)
        ],
        annotations=[],
        categories=[dict(id=1, name='a')])
    assert convert(coco)['videos'][0]['file_names'] == \
        ['v/9.jpg', 'v/10.jpg', 'v/100.jpg']


def test_converted_json_loads_with_classes_from_json(frames_set, tmp_path):
    dst = tmp_path / 'train.json'
    convert_file(str(frames_set['train']['frames_json']), str(dst))
    ds = VISDataset(
        ann_file=str(dst),
        data_prefix=dict(
            img_path=str(frames_set['root'] / 'train' / 'JPEGImages')),
        pipeline=[],
        lazy_init=False)
    assert ds.metainfo['classes'] == THREE_CLASSES
    assert len(ds) == 3
    labels = [
        inst['bbox_label'] for k in range(len(ds))
        for img in ds.get_data_info(k)['images'] for inst in img['instances']
    ]
    assert labels and set(labels) <= {0, 1, 2}


def _tiny_coco() -> dict:
    images = [
        dict(id=i + 1, file_name=f'cat/{i:05d}.jpg', height=10, width=10)
        for i in range(2)
    ]
    anns = [
        dict(
            id=i + 1,
            image_id=i + 1,
            category_id=1,
            instance_id=7,
            bbox=[1, 1, 3, 3],
            area=9,
            segmentation=[[1, 1, 4, 1, 4, 4]],
            iscrowd=0) for i in range(2)
    ]
    return dict(
        images=images,
        annotations=anns,
        categories=[dict(id=1, name='a'),
                    dict(id=2, name='b')])


def test_error_frame_without_number():
    coco = _tiny_coco()
    coco['images'][1]['file_name'] = 'cat/last.jpg'
    with pytest.raises(ValueError, match=r'cat/last\.jpg.*does not sort'):
        convert(coco, 'mine.json')


def test_error_duplicate_frame_number():
    coco = _tiny_coco()
    coco['images'][1]['file_name'] = 'cat/0.jpg'
    with pytest.raises(
            ValueError, match=r'mine\.json: video "cat".*same frame number 0'):
        convert(coco, 'mine.json')


def test_error_file_name_without_video():
    coco = _tiny_coco()
    coco['images'][0]['file_name'] = '00000.jpg'
    with pytest.raises(ValueError, match=r'image 1 .*<video>/<frame>'):
        convert(coco, 'mine.json')


def test_error_track_changes_category():
    coco = _tiny_coco()
    coco['annotations'][1]['category_id'] = 2
    with pytest.raises(
            ValueError,
            match=r'mine\.json: video "cat" track 7 annotation 2: the track '
            r'changes category from 1 to 2'):
        convert(coco, 'mine.json')


def test_error_missing_track_field_and_unknown_category():
    coco = _tiny_coco()
    del coco['annotations'][0]['instance_id']
    with pytest.raises(ValueError, match=r'annotation 1 .*no track field'):
        convert(coco, 'mine.json')
    coco = _tiny_coco()
    coco['annotations'][0]['category_id'] = 9
    with pytest.raises(ValueError, match=r'annotation 1: unknown category_id'):
        convert(coco, 'mine.json')
    # track_id is accepted as the track field too
    coco = _tiny_coco()
    for ann in coco['annotations']:
        ann['track_id'] = ann.pop('instance_id')
    assert len(convert(coco)['annotations']) == 1


def test_error_missing_file(frames_set, tmp_path):
    with pytest.raises(FileNotFoundError, match=r'missing file .*00000\.jpg'):
        convert(_tiny_coco(), 'mine.json', img_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match='COCO json not found'):
        convert_file(str(tmp_path / 'nope.json'), str(tmp_path / 'o.json'))


def test_cli_prints_counts(frames_set, tmp_path):
    dst = tmp_path / 'valid.json'
    proc = subprocess.run([
        sys.executable, TOOL,
        str(frames_set['valid']['frames_json']),
        str(dst), '--img-dir',
        str(frames_set['root'] / 'valid' / 'JPEGImages')
    ],
                          cwd=str(REPO_ROOT),
                          capture_output=True,
                          text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    n_tracks = len(frames_set['valid']['vis']['annotations'])
    assert '2 videos' in proc.stdout
    assert f'{n_tracks} tracks' in proc.stdout
    assert json.loads(dst.read_text())['videos'][0]['length'] >= 3
