"""CiCoVISMetric: AP on constructed predictions, streaming buffers, export."""
import json
import zipfile

import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from mmengine.structures import InstanceData

from mmdet.registry import METRICS
from mmdet.structures import DetDataSample

H, W = 20, 30
CLASSES = ('a', 'b')


def rle(box):
    m = np.zeros((H, W), np.uint8, order='F')
    x1, y1, x2, y2 = box
    m[y1:y2, x1:x2] = 1
    r = mask_utils.encode(np.asfortranarray(m))
    r['counts'] = r['counts'].decode()
    return r


# two disjoint 6x6 objects of class 0 in a 5-frame video
BOX = {1: (2, 2, 8, 8), 2: (15, 10, 21, 16)}


def gt_instances(video_id):
    # instance ids are unique in a dataset (annotation ids)
    return [
        dict(bbox=list(map(float, b)), bbox_label=0,
             instance_id=video_id * 10 + i,
             ignore_flag=0, mask=rle(b)) for i, b in BOX.items()
    ]


def frame(video_id, frame_id, length, preds, output=True):
    """preds: list of (track id, box, label, score)."""
    s = DetDataSample(
        metainfo=dict(
            video_id=video_id,
            frame_id=frame_id,
            img_id=video_id * 100 + frame_id,
            ori_shape=(H, W),
            ori_video_length=length,
            is_output_frame=output,
            instances=gt_instances(video_id)))
    s.pred_track_instances = InstanceData(
        instances_id=torch.tensor([p[0] for p in preds], dtype=torch.long),
        bboxes=torch.tensor([list(map(float, p[1])) for p in preds]).view(
            -1, 4),
        labels=torch.tensor([p[2] for p in preds], dtype=torch.long),
        scores=torch.tensor([p[3] for p in preds], dtype=torch.float),
        masks=[rle(p[1]) for p in preds])
    return s


def metric(**kwargs):
    m = METRICS.build(dict(type='CiCoVISMetric', **kwargs))
    m.dataset_meta = dict(classes=CLASSES, cat_ids=(1, 2))
    return m


def feed_clips(m, video_id, per_frame_preds, clip_len=3, overlap=1):
    """Feed a video as overlapping clips, as the streaming test does."""
    from projects.cico.datasets.transforms import (clip_frame_indices,
                                                   num_clips)
    length = len(per_frame_preds)
    for c in range(num_clips(length, clip_len, overlap)):
        info = clip_frame_indices(length, c, clip_len, overlap)
        frames = [
            frame(video_id, f, length, per_frame_preds[f], out)
            for f, out in zip(info['frame_inds'], info['is_output'])
        ]
        m.process({}, [dict(video_data_samples=frames)])


def test_gt_as_prediction_gives_ap_1():
    m = metric()
    preds = [[(10, BOX[1], 0, 0.9), (11, BOX[2], 0, 0.8)]] * 5
    feed_clips(m, 1, preds)
    res = m.evaluate(1)
    assert res['youtube_vis/segm_mAP'] == pytest.approx(1.0)
    assert res['youtube_vis/segm_mAP_50'] == pytest.approx(1.0)
    assert res['youtube_vis/segm_AR@10'] == pytest.approx(1.0)


def test_swapped_ids_in_one_frame_hand_computed_ap():
    """Tracks swap objects in the last of 5 frames: each track's video IoU
    with its object is 4 s / 6 s = 0.667 (s = object area), so it matches
    at IoU thresholds 0.50, 0.55, 0.60, 0.65 and misses at 0.70..0.95:
    AP = 4 / 10 = 0.4."""
    m = metric()
    preds = [[(10, BOX[1], 0, 0.9), (11, BOX[2], 0, 0.8)]] * 4
    preds.append([(10, BOX[2], 0, 0.9), (11, BOX[1], 0, 0.8)])
    feed_clips(m, 1, preds)
    res = m.evaluate(1)
    assert res['youtube_vis/segm_mAP'] == pytest.approx(0.4, abs=1e-3)
    assert res['youtube_vis/segm_mAP_50'] == pytest.approx(1.0)
    assert res['youtube_vis/segm_mAP_75'] == pytest.approx(0.0)


def test_video_level_prediction_vote_and_mean(tmp_path):
    """Category by majority vote over frames, score by mean, None where the
    track is absent; ids and lengths per video."""
    m = metric(format_only=True, outfile_prefix=str(tmp_path / 'res'))
    preds = [[(5, BOX[1], 1, 0.9)], [(5, BOX[1], 1, 0.7)],
             [(5, BOX[1], 0, 0.5)], [], []]
    feed_clips(m, 3, preds)
    assert m.evaluate(1) == {}
    out = json.load(open(tmp_path / 'res.json'))
    assert len(out) == 1
    p = out[0]
    assert p['video_id'] == 3
    assert p['category_id'] == 2  # label 1 voted twice -> cat_ids[1] = 2
    assert p['score'] == pytest.approx((0.9 + 0.7 + 0.5) / 3)
    assert len(p['segmentations']) == 5
    assert p['segmentations'][3] is None and p['segmentations'][4] is None
    assert mask_utils.area(p['segmentations'][0]) == 36
    with zipfile.ZipFile(tmp_path / 'res.submission_file.zip') as z:
        assert z.namelist() == ['results.json']
        assert json.loads(z.read('results.json')) == out


def test_second_evaluation_and_zero_predictions():
    m = metric()
    feed_clips(m, 1, [[(1, BOX[1], 0, 0.9)]] * 5)
    first = m.evaluate(1)
    assert first['youtube_vis/segm_mAP'] > 0
    # mmdet's metric crashes here with KeyError: 'images'
    feed_clips(m, 1, [[(1, BOX[1], 0, 0.9)]] * 5)
    assert m.evaluate(1) == first
    # a split with zero predictions: AP 0, no IndexError
    feed_clips(m, 1, [[]] * 5)
    res = m.evaluate(1)
    assert res['youtube_vis/segm_mAP'] == 0.0


def test_non_output_frames_are_ignored_and_videos_interleave():
    m = metric()
    # frame 0 of video 1 arrives twice: once as a non-output overlap frame
    m.process({}, [dict(video_data_samples=[
        frame(1, 0, 2, [(9, BOX[2], 0, 0.1)], output=False)])])
    m.process({}, [dict(video_data_samples=[
        frame(2, 0, 1, [(1, BOX[1], 0, 0.9), (2, BOX[2], 0, 0.9)])])])
    m.process({}, [dict(video_data_samples=[
        frame(1, 0, 2, [(1, BOX[1], 0, 0.9), (2, BOX[2], 0, 0.9)]),
        frame(1, 1, 2, [(1, BOX[1], 0, 0.9), (2, BOX[2], 0, 0.9)])])])
    assert len(m.results) == 2  # both videos finished
    assert m.evaluate(1)['youtube_vis/segm_mAP'] == pytest.approx(1.0)


def test_format_only_needs_a_prefix():
    with pytest.raises(ValueError, match='outfile_prefix'):
        metric(format_only=True)
