"""Why a VIS result loses AP: every predicted track classified by its error.

YouTube-VIS AP ranks all predicted tracks of a category, over all videos, by
score, and counts a track as a true positive when its video IoU (vIoU: the
sum over frames of the mask intersections divided by the sum of the unions)
with a not yet matched ground-truth track of its class reaches a threshold.
Every other track is a false positive that lowers the precision of all lower
ranked ones. This module repeats that matching at one threshold and says
*which kind* of false positive each track is (in the spirit of the COCO
error analysis and of TIDE, for video tracks):

``tp``
    matched, as in the AP at ``thr``.
``duplicate``
    vIoU >= ``thr`` with a ground truth of its class that a higher-scored
    track already matched (the same object output twice).
``class``
    vIoU >= ``thr`` with a ground truth of another class only.
``temporal``
    best vIoU with a ground truth of its class in ``[bkg_thr, thr)``, but
    over the frames where both are present the masks agree (vIoU >= ``thr``
    on those frames): the track covers the wrong frames, i.e. it is a piece
    of a broken track, starts late, ends early or lingers.
``mask``
    best same-class vIoU in ``[bkg_thr, thr)`` and the masks disagree where
    both are present (poor segmentation or a track switching objects).
``background``
    vIoU < ``bkg_thr`` with every ground truth.

:func:`oracle_ap` then gives the AP with one error fixed: the tracks of an
error type removed, or every track ranked by its true-positive status
(perfect scores), which separates a ranking problem from a track problem.
Docs: ``docs/error_analysis.md``.
"""
import contextlib
import io
from collections import defaultdict
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from pycocotools import mask as mask_utils

from ..utils.masks import segmentation_to_rle
from .vis_metric import numpy_float_alias

__all__ = [
    'ERROR_TYPES', 'video_ious', 'classify_tracks', 'summarize_errors',
    'oracle_ap'
]

ERROR_TYPES = ('tp', 'duplicate', 'class', 'temporal', 'mask', 'background')

_Rles = List[Optional[dict]]


def _frame_rles(segs: Sequence[Any], height: int, width: int,
                where: str) -> _Rles:
    """Per-frame compressed RLEs (``None`` where absent; empty masks count
    as absent in :func:`video_ious`)."""
    out: _Rles = []
    for t, seg in enumerate(segs):
        if seg is None:
            out.append(None)
            continue
        try:
            rle = segmentation_to_rle(seg, height, width)
        except (TypeError, ValueError, KeyError) as err:
            raise ValueError(f'{where}, frame {t}: bad segmentation '
                             f'({err})') from err
        out.append(rle)
    return out


def _presence_areas(tracks: Sequence[_Rles],
                    num_frames: int) -> Tuple[np.ndarray, np.ndarray]:
    """(n, F) mask areas and presence of tracks of ``num_frames`` frames."""
    areas = np.zeros((len(tracks), num_frames))
    for i, trk in enumerate(tracks):
        for t, r in enumerate(trk):
            if r is not None:
                areas[i, t] = mask_utils.area(r)
    return areas, areas > 0


def video_ious(preds: Sequence[_Rles],
               gts: Sequence[_Rles]) -> Tuple[np.ndarray, np.ndarray]:
    """vIoU of every (pred, gt) pair of one video, over all frames and over
    the frames where both are present.

    Args:
        preds (list[list[dict | None]]): per track, per frame RLE.
        gts (list[list[dict | None]]): the same for the ground truth.

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(P, G)`` vIoU (YouTube-VIS: summed
        intersections / summed unions, frames where neither is present left
        out) and ``(P, G)`` vIoU restricted to the frames where both are
        present (0 where there is none).
    """
    lengths = {len(t) for t in [*preds, *gts]}
    if len(lengths) > 1:
        raise ValueError('tracks of one video with different numbers of '
                         f'frames: {sorted(lengths)}')
    num_frames = lengths.pop() if lengths else 0
    area_p, has_p = _presence_areas(preds, num_frames)
    area_g, has_g = _presence_areas(gts, num_frames)
    inter = np.zeros((len(preds), len(gts)))
    for t in range(num_frames):  # one C call per frame for all pairs
        ps, gs = has_p[:, t].nonzero()[0], has_g[:, t].nonzero()[0]
        if not len(ps) or not len(gs):
            continue
        iou = np.asarray(
            mask_utils.iou([preds[i][t] for i in ps], [gts[j][t] for j in gs],
                           [0] * len(gs)))
        both = area_p[ps, t][:, None] + area_g[gs, t][None]
        inter[np.ix_(ps, gs)] += np.rint(iou * both / (1 + iou))
    union = area_p.sum(1)[:, None] + area_g.sum(1)[None] - inter
    union_both = (
        area_p @ has_g.T.astype(float) + has_p.astype(float) @ area_g.T -
        inter)
    viou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    shared = np.divide(
        inter, union_both, out=np.zeros_like(inter), where=union_both > 0)
    return viou, shared


def classify_tracks(gt: Dict[str, Any],
                    preds: Sequence[Dict[str, Any]],
                    thr: float = 0.5,
                    bkg_thr: float = 0.1) -> Tuple[List[dict], List[dict]]:
    """Classify every predicted track (see the module docstring).

    Args:
        gt (dict): a YouTube-VIS annotation json (``videos``,
            ``annotations``, ``categories``).
        preds (list[dict]): YouTube-VIS results (``video_id``,
            ``category_id``, ``score``, ``segmentations``).
        thr (float): the vIoU of a true positive.
        bkg_thr (float): below this vIoU with every ground truth a track is
            background.

    Returns:
        tuple[list[dict], list[dict]]: per prediction (in input order)
        ``type``, ``score``, ``video_id``, ``category_id``, ``viou`` (best
        vIoU with a ground truth of its class) and ``gt`` (that ground
        truth's annotation id or None); per ground truth ``id``,
        ``video_id``, ``category_id``, ``matched`` and ``best_viou`` (best
        vIoU of any prediction of its class).
    """
    if not 0 < bkg_thr <= thr <= 1:
        raise ValueError(f'need 0 < bkg_thr <= thr <= 1, got {bkg_thr}, '
                         f'{thr}')
    gts_by_vid, row, ious = _iou_tables(gt, preds)
    gt_rows = [(a['video_id'], g, a) for vid in gts_by_vid
               for g, a in enumerate(gts_by_vid[vid])]
    matched: set = set()  # (video_id, gt row)
    best_gt = {(v, g): 0. for v, g, _ in gt_rows}
    out: List[Optional[dict]] = [None] * len(preds)
    # the AP's order: by score, per category (stable: input order on ties)
    for k in sorted(range(len(preds)), key=lambda k: -preds[k]['score']):
        vid, r = row[k]
        anns = gts_by_vid[vid]
        same = [
            g for g, a in enumerate(anns)
            if a['category_id'] == preds[k]['category_id']
        ]
        for g in same:
            best_gt[(vid, g)] = max(best_gt[(vid, g)], ious[vid][0][r, g])
        kind, best = _error_type(ious[vid], r, same, vid, matched, thr,
                                 bkg_thr)
        out[k] = dict(
            type=kind,
            score=float(preds[k]['score']),
            video_id=vid,
            category_id=preds[k]['category_id'],
            viou=float(ious[vid][0][r, best]) if best is not None else 0.,
            gt=anns[best]['id'] if best is not None else None)
    gt_out = [
        dict(
            id=a['id'],
            video_id=v,
            category_id=a['category_id'],
            matched=(v, g) in matched,
            best_viou=float(best_gt[(v, g)])) for v, g, a in gt_rows
    ]
    return out, gt_out  # type: ignore[return-value]


def _iou_tables(gt: Dict[str, Any], preds: Sequence[Dict[str, Any]]):
    """Ground truths per video, ``{pred index: (video_id, row)}`` and
    ``{video_id: (vIoU, vIoU on shared frames)}``."""
    videos = {v['id']: v for v in gt['videos']}
    gts_by_vid: Dict[int, List[dict]] = defaultdict(list)
    for ann in gt['annotations']:
        gts_by_vid[ann['video_id']].append(ann)
    preds_by_vid: Dict[int, List[int]] = defaultdict(list)
    for k, pred in enumerate(preds):
        if pred['video_id'] not in videos:
            raise ValueError(f'prediction {k}: video_id {pred["video_id"]} '
                             'is not in the annotations')
        preds_by_vid[pred['video_id']].append(k)
    ious: Dict[int, Tuple[np.ndarray, np.ndarray]] = {}
    for vid, ks in preds_by_vid.items():
        h, w = videos[vid]['height'], videos[vid]['width']
        length = videos[vid].get('length')
        for k in ks:
            n = len(preds[k]['segmentations'])
            if length is not None and n != length:
                raise ValueError(f'prediction {k} (video {vid}): {n} '
                                 f'segmentations for {length} frames')
        p_rles = [
            _frame_rles(preds[k]['segmentations'], h, w,
                        f'prediction {k} (video {vid})') for k in ks
        ]
        g_rles = [
            _frame_rles(a['segmentations'], h, w,
                        f'annotation {a["id"]} (video {vid})')
            for a in gts_by_vid[vid]
        ]
        ious[vid] = video_ious(p_rles, g_rles)
    row = {
        k: (vid, r)
        for vid, ks in preds_by_vid.items()
        for r, k in enumerate(ks)
    }
    return gts_by_vid, row, ious


def _error_type(ious: Tuple[np.ndarray, np.ndarray], r: int, same: List[int],
                vid: int, matched: set, thr: float,
                bkg_thr: float) -> Tuple[str, Optional[int]]:
    """The type of prediction row ``r`` and the ground-truth row it is
    judged against (``matched`` gains the ground truth of a ``tp``)."""
    viou, shared = ious
    best = max(same, key=lambda g: viou[r, g]) if same else None
    best_v = viou[r, best] if best is not None else 0.
    free = [g for g in same if (vid, g) not in matched]
    free_best = max(free, key=lambda g: viou[r, g]) if free else None
    any_v = viou[r].max() if viou.shape[1] else 0.
    if free_best is not None and viou[r, free_best] >= thr:
        matched.add((vid, free_best))
        return 'tp', free_best
    if best_v >= thr:
        return 'duplicate', best
    if any_v >= thr:
        return 'class', best
    if best is not None and best_v >= bkg_thr:
        return ('temporal' if shared[r, best] >= thr else 'mask'), best
    if any_v >= bkg_thr:
        return 'class', best  # overlaps another class's object only
    return 'background', best


def summarize_errors(tracks: Sequence[dict], gts: Sequence[dict],
                     num_videos: int) -> Dict[str, Any]:
    """Counts and mean scores per error type, tracks per video, recall.

    Returns:
        dict: ``count`` and ``mean_score`` per type, ``separation`` (per
        false-positive type, the probability that a random true positive
        outscores a random track of that type, ties counting one half: 1
        is a perfect ranking, 0.5 a useless one; None without both),
        ``tracks_per_video``, ``num_gts`` and ``missed`` (ground truths no
        true positive matched).
    """
    scores = {
        t: [d['score'] for d in tracks if d['type'] == t]
        for t in ERROR_TYPES
    }
    return dict(
        count={
            t: len(s)
            for t, s in scores.items()
        },
        mean_score={
            t: (float(np.mean(s)) if s else None)
            for t, s in scores.items()
        },
        separation={
            t: _separation(scores['tp'], s)
            for t, s in scores.items() if t != 'tp'
        },
        tracks_per_video=len(tracks) / max(num_videos, 1),
        num_gts=len(gts),
        missed=sum(not g['matched'] for g in gts))


def _separation(pos: Sequence[float], neg: Sequence[float]) -> Optional[float]:
    """P(a positive scores above a negative), ties one half (the AUC)."""
    if not len(pos) or not len(neg):
        return None
    p, n = np.asarray(pos)[:, None], np.asarray(neg)[None]
    return float((p > n).mean() + 0.5 * (p == n).mean())


def _ap(gt: Dict[str, Any], preds: List[Dict[str,
                                             Any]]) -> Tuple[float, float]:
    """(AP, AP50) in percent with mmdet's YouTube-VIS evaluator."""
    if not preds:
        return 0., 0.
    from mmdet.evaluation.functional import YTVIS, YTVISeval
    with contextlib.redirect_stdout(io.StringIO()), numpy_float_alias():
        ytvis = YTVIS(gt)
        dets = ytvis.loadRes([dict(p) for p in preds])
        ev = YTVISeval(ytvis, dets, 'segm')
        ev.params.vidIds = ytvis.getVidIds()
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return 100 * float(ev.stats[0]), 100 * float(ev.stats[1])


def oracle_ap(
    gt: Dict[str, Any],
    preds: Sequence[Dict[str, Any]],
    tracks: Sequence[dict],
    fixes: Iterable[str] = ERROR_TYPES[1:] + ('ranking', )
) -> Dict[str, Tuple[float, float]]:
    """(AP, AP50) as is and with one error fixed.

    ``'ranking'`` gives every true positive (at the classification's
    ``thr``) a score above every false positive, keeping the order within
    each group: the AP these tracks would reach with perfect scores. Any
    other key removes the tracks of that error type.

    Returns:
        dict: ``'none'`` (the AP as is) and one entry per fix.
    """
    preds = list(preds)
    res = {'none': _ap(gt, preds)}
    for fix in fixes:
        if fix == 'ranking':
            fixed = [
                dict(
                    p,
                    score=(1. +
                           p['score']) if d['type'] == 'tp' else p['score'] /
                    2) for p, d in zip(preds, tracks)
            ]
        elif fix in ERROR_TYPES[1:]:
            fixed = [p for p, d in zip(preds, tracks) if d['type'] != fix]
        else:
            raise KeyError(f'unknown fix {fix!r}; one of '
                           f'{ERROR_TYPES[1:] + ("ranking", )}')
        res[fix] = _ap(gt, fixed)
    return res
