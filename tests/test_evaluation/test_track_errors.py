"""Error analysis of VIS results: hand-built videos where every track's
error type, vIoU and the AP with each error fixed are known."""
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from projects.cico.evaluation.track_errors import (classify_tracks, oracle_ap,
                                                   summarize_errors,
                                                   video_ious)

H = W = 20
FRAMES = 4


def rle(rows, cols):
    m = np.zeros((H, W), np.uint8)
    m[rows[0]:rows[1], cols[0]:cols[1]] = 1
    r = mask_utils.encode(np.asfortranarray(m))
    r['counts'] = r['counts'].decode()
    return r


A = ((0, 10), (0, 10))  # 100 px, top left
B = ((10, 20), (10, 20))  # 100 px, bottom right
B_TOP = ((10, 14), (10, 20))  # 40 px inside B
EMPTY_QUADRANT = ((0, 10), (10, 20))


def track(box, frames=range(FRAMES)):
    return [rle(*box) if t in frames else None for t in range(FRAMES)]


def gt_json(*objects):
    return dict(
        videos=[dict(id=1, height=H, width=W, length=FRAMES)],
        categories=[dict(id=1, name='a'),
                    dict(id=2, name='b')],
        annotations=[
            dict(
                id=k + 1,
                video_id=1,
                category_id=cat,
                iscrowd=0,
                height=H,
                width=W,
                segmentations=track(box),
                areas=[100] * FRAMES,
                bboxes=[[0, 0, 10, 10]] * FRAMES)
            for k, (cat, box) in enumerate(objects)
        ])


def pred(cat, score, segs):
    return dict(video_id=1, category_id=cat, score=score, segmentations=segs)


def test_video_ious_by_hand():
    # B in frame 0 only against B in 4 frames: 100 / 400 over all frames,
    # 100 / 100 where both are present; B_TOP in 4 frames: 160 / 400
    preds = [track(B, frames={0}), track(B_TOP)]
    viou, shared = video_ious(preds, [track(B), track(A)])
    np.testing.assert_allclose(viou, [[0.25, 0.], [0.4, 0.]])
    np.testing.assert_allclose(shared, [[1., 0.], [0.4, 0.]])
    with pytest.raises(
            ValueError, match=r'different numbers of frames: '
            r'\[3, 4\]'):
        video_ious([track(A)[:3]], [track(A)])


def test_every_error_type():
    gt = gt_json((1, A), (2, B))
    preds = [
        pred(1, 0.9, track(A)),  # tp
        pred(1, 0.8, track(A)),  # duplicate of the tp
        pred(2, 0.7, track(A)),  # A under the other class
        pred(2, 0.6, track(B, frames={0})),  # a piece of B: temporal
        pred(2, 0.5, track(B_TOP)),  # a poor mask of B
        pred(1, 0.4, track(EMPTY_QUADRANT)),  # nothing there
    ]
    tracks, gts = classify_tracks(gt, preds)
    assert [t['type'] for t in tracks] == [
        'tp', 'duplicate', 'class', 'temporal', 'mask', 'background'
    ]
    assert [t['gt'] for t in tracks] == [1, 1, 2, 2, 2, 1]
    np.testing.assert_allclose([t['viou'] for t in tracks],
                               [1, 1, 0, 0.25, 0.4, 0])
    assert [(g['id'], g['matched']) for g in gts] == [(1, True), (2, False)]
    np.testing.assert_allclose([g['best_viou'] for g in gts], [1, 0.4])

    s = summarize_errors(tracks, gts, num_videos=1)
    assert s['count'] == dict(
        tp=1, duplicate=1, **{'class': 1}, temporal=1, mask=1, background=1)
    assert s['mean_score']['duplicate'] == pytest.approx(0.8)
    # the tp (0.9) outscores every false positive
    assert set(s['separation'].values()) == {1.0}
    assert (s['tracks_per_video'], s['num_gts'], s['missed']) == (6, 2, 1)

    # category a: AP 100 at every threshold; category b: nothing reaches
    # vIoU 0.5, AP 0 whatever is removed or re-ranked
    ap = oracle_ap(gt, preds, tracks)
    assert set(ap) == {
        'none', 'duplicate', 'class', 'temporal', 'mask', 'background',
        'ranking'
    }
    for key, (ap_all, ap50) in ap.items():
        assert (ap_all, ap50) == pytest.approx((50., 50.)), key


def test_a_lower_threshold_turns_the_poor_mask_into_a_tp():
    gt = gt_json((1, A), (2, B))
    preds = [pred(2, 0.5, track(B_TOP))]
    tracks, gts = classify_tracks(gt, preds, thr=0.4)
    assert tracks[0]['type'] == 'tp' and gts[1]['matched']
    tracks, _ = classify_tracks(gt, preds, thr=0.5, bkg_thr=0.45)
    assert tracks[0]['type'] == 'background'


def test_ranking_and_removal_oracles_by_hand():
    gt = gt_json((1, A))
    # a higher-scored background track before the true positive: precision
    # 1/2 at recall 1, COCO-interpolated AP 50
    preds = [
        pred(1, 0.9, track(EMPTY_QUADRANT)),
        pred(1, 0.5, track(A)),
    ]
    tracks, _ = classify_tracks(gt, preds)
    assert [t['type'] for t in tracks] == ['background', 'tp']
    sep = summarize_errors(tracks, [], 1)['separation']
    assert sep['background'] == 0.0 and sep['class'] is None
    ap = oracle_ap(gt, preds, tracks, fixes=('ranking', 'background', 'mask'))
    assert ap['none'] == pytest.approx((50., 50.))
    assert ap['ranking'] == pytest.approx((100., 100.))
    assert ap['background'] == pytest.approx((100., 100.))
    assert ap['mask'] == pytest.approx((50., 50.))  # none to remove
    with pytest.raises(KeyError, match="unknown fix 'tp'"):
        oracle_ap(gt, preds, tracks, fixes=('tp', ))


def test_bad_input_is_named():
    gt = gt_json((1, A))
    with pytest.raises(ValueError, match='prediction 0: video_id 7 is not'):
        classify_tracks(gt, [dict(pred(1, 0.5, track(A)), video_id=7)])
    with pytest.raises(
            ValueError,
            match=r'prediction 0 \(video 1\), frame '
            '0: bad segmentation'):
        classify_tracks(gt, [pred(1, 0.5, [dict(size=[H, W])] * FRAMES)])
    with pytest.raises(
            ValueError,
            match=r'prediction 0 \(video 1\): 3 '
            'segmentations for 4 frames'):
        classify_tracks(gt, [pred(1, 0.5, track(A)[:3])])
    with pytest.raises(ValueError, match='need 0 < bkg_thr <= thr <= 1'):
        classify_tracks(gt, [], thr=0.3, bkg_thr=0.5)
