"""VISDataset validates every numeric field of an annotation on load; the
error names the file, video, annotation, frame and field."""
import copy
import json
import math
import re

import pytest

from projects.cico.datasets import VISDataset


def official_json() -> dict:
    """One 2-frame 20x30 video with one track (annotation 7)."""
    return dict(
        videos=[
            dict(
                id=1,
                height=20,
                width=30,
                length=2,
                file_names=['v/00000.jpg', 'v/00001.jpg'])
        ],
        annotations=[
            dict(
                id=7,
                video_id=1,
                category_id=1,
                iscrowd=0,
                bboxes=[[2, 3, 10, 5], None],
                areas=[50, None],
                segmentations=[[[2, 3, 12, 3, 12, 8, 2, 8]], None])
        ],
        categories=[dict(id=1, name='thing')])


def cocovid_json() -> dict:
    return dict(
        videos=[dict(id=1, name='v')],
        images=[
            dict(
                id=i + 1,
                video_id=1,
                frame_id=i,
                file_name=f'v/{i:05d}.jpg',
                height=20,
                width=30) for i in range(2)
        ],
        annotations=[
            dict(
                id=5,
                image_id=2,
                category_id=1,
                instance_id=1,
                bbox=[2, 3, 10, 5],
                area=50,
                segmentation=[[2, 3, 12, 3, 12, 8]],
                iscrowd=0)
        ],
        categories=[dict(id=1, name='thing')])


def load(tmp_path, raw: dict) -> VISDataset:
    path = tmp_path / 'mine.json'
    # allow_nan: json writes NaN/Infinity, as a careless exporter would
    path.write_text(json.dumps(raw, allow_nan=True))
    return VISDataset(ann_file=str(path), pipeline=[], lazy_init=False)


def test_valid_annotations_load(tmp_path):
    ds = load(tmp_path, official_json())
    inst = ds.get_data_info(0)['images'][0]['instances'][0]
    assert inst['bbox'] == [2, 3, 12, 8]
    # a box slightly outside the frame (rounding, cut objects) is fine
    raw = official_json()
    raw['annotations'][0]['bboxes'][0] = [-1.5, 0, 31.5, 20.5]
    assert len(load(tmp_path, raw)) == 1
    assert len(load(tmp_path, cocovid_json())) == 1


OFFICIAL_CASES = [
    ('bboxes', [math.nan, 3, 10, 5], r'"bbox" must be 4 finite numbers'),
    ('bboxes', [2, 3, math.inf, 5], r'"bbox" must be 4 finite numbers'),
    ('bboxes', [2, 3, 10], r'"bbox" must be 4 finite numbers'),
    ('bboxes', ['2', 3, 10, 5], r'"bbox" must be 4 finite numbers'),
    ('bboxes', [2, 3, -10, 5], r'"bbox" \[2, 3, -10, 5\] has a negative'),
    ('bboxes', [2, 3, 10, -1], r'negative size'),
    ('bboxes', [200, 3, 10, 5], r'lies far outside the 30x20 frame'),
    ('bboxes', [2, -300, 10, 5], r'lies far outside'),
    ('areas', math.nan, r'"area" must be a finite number >= 0, got nan'),
    ('areas', -4, r'"area" must be a finite number >= 0, got -4'),
    ('segmentations', [[2, 3, math.nan, 3, 12, 8]], r'"segmentation" polygon'),
    ('segmentations', [[2, 3, 12]], r'"segmentation" polygon'),
    ('segmentations', dict(size=[40, 30], counts='abc'),
     r'"segmentation" RLE size \[40, 30\] != frame size \[20, 30\]'),
]


@pytest.mark.parametrize('field,value,message', OFFICIAL_CASES)
def test_official_bad_field_names_file_video_annotation(
        tmp_path, field, value, message):
    raw = official_json()
    raw['annotations'][0][field][0] = value
    with pytest.raises(ValueError) as err:
        load(tmp_path, raw)
    text = str(err.value)
    assert 'mine.json: video 1 annotation 7 frame 0' in text
    assert re.search(message, text), text


@pytest.mark.parametrize('field,value', [('height', 0), ('width', -3),
                                         ('height', math.nan),
                                         ('width', None)])
def test_bad_frame_size(tmp_path, field, value):
    raw = official_json()
    raw['videos'][0][field] = value
    with pytest.raises(
            ValueError,
            match=rf'mine\.json: video 1: "{field}" must be a '
            'positive finite number'):
        load(tmp_path, raw)
    raw = cocovid_json()
    raw['images'][1][field] = value
    with pytest.raises(
            ValueError, match=rf'mine\.json: video 1 image 2: "{field}"'):
        load(tmp_path, raw)


@pytest.mark.parametrize('field,value,message', [
    ('bbox', [2, 3, math.inf, 5], r'"bbox" must be 4 finite numbers'),
    ('bbox', [2, 3, 10, -5], r'negative size'),
    ('bbox', [2, 3, 100, 5], r'far outside'),
    ('area', math.inf, r'"area" must be a finite number'),
    ('segmentation', [[2, 3, 12, 3, 12, None]], r'"segmentation" polygon'),
])
def test_cocovid_bad_field(tmp_path, field, value, message):
    raw = cocovid_json()
    raw['annotations'][0][field] = value
    with pytest.raises(ValueError, match=message) as err:
        load(tmp_path, raw)
    assert 'mine.json: video 1 annotation 5 frame 1' in str(err.value)


def test_bool_is_not_a_number(tmp_path):
    raw = copy.deepcopy(official_json())
    raw['annotations'][0]['areas'][0] = True
    with pytest.raises(ValueError, match='"area"'):
        load(tmp_path, raw)
