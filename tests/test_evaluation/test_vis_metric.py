"""CiCoVISMetric: AP on constructed predictions, streaming buffers, export."""
import json
import zipfile

import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from mmdet.registry import METRICS
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

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
        dict(
            bbox=list(map(float, b)),
            bbox_label=0,
            instance_id=video_id * 10 + i,
            ignore_flag=0,
            mask=rle(b)) for i, b in BOX.items()
    ]


def frame(video_id, frame_id, length, preds, output=True, clip_index=None):
    """preds: list of (track id, box, label, score[, class scores])."""
    s = DetDataSample(
        metainfo=dict(
            video_id=video_id,
            clip_index=clip_index,
            frame_id=frame_id,
            img_id=video_id * 100 + frame_id,
            ori_shape=(H, W),
            ori_video_length=length,
            is_output_frame=output,
            instances=gt_instances(video_id)))
    s.pred_track_instances = InstanceData(
        instances_id=torch.tensor([p[0] for p in preds], dtype=torch.long),
        bboxes=torch.tensor([list(map(float, p[1]))
                             for p in preds]).view(-1, 4),
        labels=torch.tensor([p[2] for p in preds], dtype=torch.long),
        scores=torch.tensor([p[3] for p in preds], dtype=torch.float),
        masks=[rle(p[1]) for p in preds])
    if preds and len(preds[0]) > 4:
        s.pred_track_instances.cls_scores = torch.tensor([p[4] for p in preds])
    return s


def metric(**kwargs):
    m = METRICS.build(dict(type='CiCoVISMetric', **kwargs))
    m.dataset_meta = dict(classes=CLASSES, cat_ids=(1, 2))
    return m


def feed_clips(m, video_id, per_frame_preds, clip_len=3, overlap=1):
    """Feed a video as overlapping clips, as the streaming test does."""
    from projects.cico.utils.clip_layout import num_clips, video_clip
    length = len(per_frame_preds)
    for c in range(num_clips(length, clip_len, overlap)):
        clip = video_clip(length, c, clip_len, overlap)
        frames = [
            frame(video_id, f, length, per_frame_preds[f], out, c)
            for f, out in zip(clip.frame_inds, clip.is_output)
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


def test_track_labels_from_mean_class_scores(tmp_path):
    """labels_per_track: the class from the track's mean class-score
    vector, where the vote would take the commonest frame label; k results
    per track, each scored by its class's mean probability."""
    # frame labels 1, 1, 0 (vote: 1); mean vector (1.3, 1.1) / 3 -> 0
    vecs = [(0.2, 0.5), (0.2, 0.5), (0.9, 0.1)]
    preds = [[(5, BOX[1], int(np.argmax(v)), max(v), v)] for v in vecs]
    out = {}
    for k in (None, 1, 2, 5):
        m = metric(
            format_only=True,
            outfile_prefix=str(tmp_path / f'k{k}'),
            labels_per_track=k)
        feed_clips(m, 3, preds)
        m.evaluate(1)
        out[k] = json.load(open(tmp_path / f'k{k}.json'))
    assert [(p['category_id'], round(p['score'], 4))
            for p in out[None]] == [(2, round((0.5 + 0.5 + 0.9) / 3, 4))]
    assert [(p['category_id'], round(p['score'], 4))
            for p in out[1]] == [(1, round(1.3 / 3, 4))]
    assert [(p['category_id'], round(p['score'], 4))
            for p in out[2]] == [(1, round(1.3 / 3, 4)), (2, round(1.1 / 3,
                                                                   4))]
    assert out[5] == out[2]  # K above the class count: every class
    assert out[2][0]['segmentations'] == out[2][1]['segmentations']
    assert mask_utils.area(out[2][1]['segmentations'][2]) == 36


def test_track_labels_need_class_scores():
    with pytest.raises(ValueError, match='labels_per_track=0'):
        metric(labels_per_track=0)
    m = metric(labels_per_track=1)
    with pytest.raises(ValueError, match='frame 0: labels_per_track needs'):
        feed_clips(m, 1, [[(10, BOX[1], 0, 0.9)]] * 3)


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
    m.process({}, [
        dict(video_data_samples=[
            frame(1, 0, 2, [(9, BOX[2], 0, 0.1)], output=False)
        ])
    ])
    m.process({}, [
        dict(video_data_samples=[
            frame(2, 0, 1, [(1, BOX[1], 0, 0.9), (2, BOX[2], 0, 0.9)])
        ])
    ])
    m.process({}, [
        dict(video_data_samples=[
            frame(1, 0, 2, [(1, BOX[1], 0, 0.9), (2, BOX[2], 0, 0.9)]),
            frame(1, 1, 2, [(1, BOX[1], 0, 0.9), (2, BOX[2], 0, 0.9)])
        ])
    ])
    assert len(m.results) == 2  # both videos finished
    assert m.evaluate(1)['youtube_vis/segm_mAP'] == pytest.approx(1.0)


def test_format_only_needs_a_prefix():
    with pytest.raises(ValueError, match='outfile_prefix'):
        metric(format_only=True)


# --------------------------------------------- GT areas from the masks
def disk_rle(size=200, radius=70):
    """A disk of ``radius`` centred in a ``size`` x ``size`` frame: 15373
    pixels for radius 70, its box is 141 x 141 (x, y in 30..170)."""
    yy, xx = np.mgrid[:size, :size]
    c = size // 2
    m = ((xx - c)**2 + (yy - c)**2 <= radius**2).astype(np.uint8)
    r = mask_utils.encode(np.asfortranarray(m))
    r['counts'] = r['counts'].decode()
    return r


def masks_frame(video_id, frame_id, length, size, gts, preds):
    """A frame of a ``size`` x ``size`` video; ``gts``: list of
    (instance id, bbox x1y1x2y2, mask); ``preds``: list of (track id, RLE,
    score)."""
    s = DetDataSample(
        metainfo=dict(
            video_id=video_id,
            frame_id=frame_id,
            img_id=video_id * 100 + frame_id,
            ori_shape=(size, size),
            ori_video_length=length,
            is_output_frame=True,
            instances=[
                dict(
                    bbox=list(map(float, b)),
                    bbox_label=0,
                    instance_id=i,
                    ignore_flag=0,
                    mask=m) for i, b, m in gts
            ]))
    s.pred_track_instances = InstanceData(
        instances_id=torch.tensor([p[0] for p in preds], dtype=torch.long),
        bboxes=torch.tensor([list(mask_utils.toBbox(p[1])) for p in preds],
                            dtype=torch.float).view(-1, 4),
        labels=torch.zeros(len(preds), dtype=torch.long),
        scores=torch.tensor([p[2] for p in preds], dtype=torch.float),
        masks=[p[1] for p in preds])
    return s


SIZE_ITEMS = ('mAP', 'mAP_s', 'mAP_m', 'mAP_l', 'AR_s@100', 'AR_m@100',
              'AR_l@100')


def test_disk_is_small_by_mask_area_not_medium_by_box():
    """A disk of radius 70 in a 200x200 frame: mask area 15373 < 128^2 =
    16384 (small), box 141 x 141 = 19881 (medium). The official evaluator
    sizes objects by the mean mask area over the frames where they are
    present, so the exact prediction scores APs = ARs = 1 and there is no
    medium / large object (-1). With box areas, APs would be -1 and APm 1.
    """
    disk = disk_rle()
    assert mask_utils.area(disk) == 15373
    assert list(mask_utils.toBbox(disk)) == [30, 30, 141, 141]
    box = (30, 30, 171, 171)
    m = metric(metric_items=SIZE_ITEMS)
    # 3 frames, the object is absent from frame 1
    present = [True, False, True]
    for f, here in enumerate(present):
        gts = [(7, box, disk)] if here else []
        preds = [(1, disk, 0.9)] if here else []
        m.process(
            {},
            [dict(video_data_samples=[masks_frame(1, f, 3, 200, gts, preds)])])
    (_, gt_anns), = m.results
    assert gt_anns[0]['areas'] == [15373, None, 15373]
    res = m.evaluate(1)
    assert res == {
        'youtube_vis/segm_mAP': 1.0,
        'youtube_vis/segm_mAP_s': 1.0,
        'youtube_vis/segm_mAP_m': -1.0,
        'youtube_vis/segm_mAP_l': -1.0,
        'youtube_vis/segm_AR_s@100': 1.0,
        'youtube_vis/segm_AR_m@100': -1.0,
        'youtube_vis/segm_AR_l@100': -1.0,
    }


def test_gt_areas_of_polygon_and_uncompressed_masks():
    """Polygons and uncompressed RLEs are measured too (the dataset keeps
    the json's encoding): a 6x6 square polygon rasterises to 36 pixels, a
    hand-written uncompressed RLE of 4 + 5 set pixels has area 9."""
    m = metric()
    square = [[2.0, 2.0, 8.0, 2.0, 8.0, 8.0, 2.0, 8.0]]
    # column-major runs in a 20 x 30 frame: 3 off, 4 on, 10 off, 5 on, rest
    uncompressed = dict(size=[H, W], counts=[3, 4, 10, 5, H * W - 22])
    gts = [
        dict(
            width=W,
            height=H,
            img_id=f,
            frame_id=f,
            video_id=4,
            video_length=2,
            anns=[
                dict(
                    bbox=[2.0, 2.0, 8.0, 8.0],
                    bbox_label=0,
                    instance_id=1,
                    mask=square)
            ] + ([
                dict(
                    bbox=[0.0, 3.0, 2.0, 10.0],
                    bbox_label=1,
                    instance_id=2,
                    mask=uncompressed)
            ] if f else [])) for f in range(2)
    ]
    anns = {a['id']: a for a in m._format_one_video_gts(gts)}
    assert anns[1]['areas'] == [36, 36]
    assert anns[2]['areas'] == [None, 9]


def test_bad_gt_mask_names_video_and_instance():
    m = metric()
    gts = [
        dict(
            width=W,
            height=H,
            img_id=0,
            frame_id=0,
            video_id=5,
            video_length=1,
            anns=[
                dict(
                    bbox=[2.0, 2.0, 8.0, 8.0],
                    bbox_label=0,
                    instance_id=3,
                    mask={'counts': 'x'})
            ])
    ]
    with pytest.raises(ValueError, match='video 5 instance 3'):
        m._format_one_video_gts(gts)


# ------------------------------------------- video scores in float64
def test_equal_frame_scores_give_exactly_that_score(tmp_path):
    """Tracks of 1, 3 and 6 frames, every frame scored float32(0.9): each
    video score is exactly float32(0.9) = 0.8999999761581421. (A float32
    mean gives 0.8999999165534973 over 3 frames and 0.9000000357627869
    over 6.)"""
    m = metric(format_only=True, outfile_prefix=str(tmp_path / 'res'))
    preds = [[(1, BOX[1], 0, 0.9), (2, BOX[2], 0, 0.9), (3, BOX[1], 1, 0.9)]]
    preds += [[(1, BOX[1], 0, 0.9), (2, BOX[2], 0, 0.9)]] * 2
    preds += [[(2, BOX[2], 0, 0.9)]] * 3
    feed_clips(m, 1, preds)
    m.evaluate(1)
    out = json.load(open(tmp_path / 'res.json'))
    lengths = sorted(
        sum(s is not None for s in p['segmentations']) for p in out)
    assert lengths == [1, 3, 6]
    assert [p['score'] for p in out] == [0.8999999761581421] * 3


def test_tied_scores_do_not_depend_on_track_length():
    """Two objects in 6 frames, found by 6-frame tracks; a false positive
    3-frame track listed first; all frames scored 0.9. The three video
    scores tie, so the false positive keeps its first place (stable sort):
    precision 0, 1/2, 2/3 at recall 0, 1/2, 1, whose envelope is 2/3 at
    every recall and IoU threshold: AP = 0.667. (With float32 means the
    3-frame track would drop below the 6-frame ones: AP 1.)"""
    m = metric()
    fp_box = (24, 2, 30, 8)  # overlaps neither object
    preds = [[(9, fp_box, 0, 0.9), (10, BOX[1], 0, 0.9),
              (11, BOX[2], 0, 0.9)]] * 3
    preds += [[(10, BOX[1], 0, 0.9), (11, BOX[2], 0, 0.9)]] * 3
    feed_clips(m, 1, preds)
    res = m.evaluate(1)
    assert res['youtube_vis/segm_mAP'] == 0.667
    assert res['youtube_vis/segm_AR@10'] == 1.0


def test_video_score_and_category_over_clips():
    """One track over 4 frames in 3 clips (clip 0: frames 0-1, score 0.9,
    label 0; clips 1 and 2: one frame each, score 0.3, label 2). Over
    frames: score (0.9 + 0.9 + 0.3 + 0.3) / 4 = 0.6, labels 0, 0, 2, 2 tie
    -> 0. Over clips (the authors'): (0.9 + 0.3 + 0.3) / 3 = 0.5, labels
    0, 2, 2 -> 2."""
    from projects.cico.evaluation import format_video_tracks
    rle = mask_utils.encode(np.asfortranarray(np.ones((4, 4), np.uint8)))
    frames = [
        dict(
            instances_id=np.array([1]),
            labels=np.array([lab]),
            scores=np.array([sc]),
            masks=[dict(rle)],
            clip_index=clip) for clip, sc, lab in ((0, 0.9, 0), (0, 0.9, 0),
                                                   (1, 0.3, 2), (2, 0.3, 2))
    ]
    by_frame = format_video_tracks(frames, 5)
    by_clip = format_video_tracks(frames, 5, aggregate_over='clips')
    assert by_frame[0]['score'] == pytest.approx(0.6)
    assert by_frame[0]['category_id'] == 1
    assert by_clip[0]['score'] == pytest.approx(0.5)
    assert by_clip[0]['category_id'] == 3
    assert by_clip[0]['segmentations'] == by_frame[0]['segmentations']
    for f in frames:
        f.pop('clip_index')
    with pytest.raises(ValueError, match='frame 0: .*clip_index'):
        format_video_tracks(frames, 5, aggregate_over='clips')


def test_metric_aggregates_over_clips():
    """5 frames as clips [0, 1, 2], [2, 3, 4] (T_o = 1): clip 0 outputs
    frames 0, 1 (score 0.9), clip 1 frames 2, 3, 4 (score 0.3). Over
    frames the video score is (2 x 0.9 + 3 x 0.3) / 5 = 0.54, over clips
    (0.9 + 0.3) / 2 = 0.6."""
    preds = [[(10, BOX[1], 0, 0.9)]] * 2 + [[(10, BOX[1], 0, 0.3)]] * 3
    scores = {}
    for over in ('frames', 'clips'):
        m = metric(aggregate_over=over)
        feed_clips(m, 1, preds)
        scores[over] = m.results[-1][0][0]['score']
    assert scores['frames'] == pytest.approx(0.54)
    assert scores['clips'] == pytest.approx(0.6)
