"""Video-level YouTube-VIS results from per-frame tracked instances.

The aggregation of mmdet's ``YouTubeVISMetric`` as a pure function, shared by
:class:`~projects.cico.evaluation.CiCoVISMetric` and the
:class:`~projects.cico.apis.VideoInferencer` (demo ``--out-json``), so that
both export the same json for the same frames.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np


def format_video_tracks(frames: Sequence[dict],
                        video_id: int,
                        num_frames: Optional[int] = None,
                        cat_ids: Optional[Sequence[int]] = None,
                        labels_per_track: Optional[int] = None,
                        aggregate_over: str = 'frames') -> List[dict]:
    """One YouTube-VIS result per track of a video (``labels_per_track``
    results per track when it is set).

    Args:
        frames (Sequence[dict]): per frame, in order, ``instances_id``,
            ``labels``, ``scores`` (arrays of length n), ``masks`` (n
            compressed RLEs; ``bytes`` counts are decoded to ``str`` in
            place) and, for ``labels_per_track``, ``cls_scores`` (n, C).
        video_id (int): ``video_id`` of every result.
        num_frames (int, optional): length of ``segmentations``; default
            ``len(frames)``.
        cat_ids (Sequence[int], optional): the dataset's category ids,
            indexed by label; default ``label + 1``.
        labels_per_track (int, optional): None: the majority vote of mmdet
            and the authors. k: one result per each of the k best classes
            of the track's mean class-score vector, scored by its mean
            probability (``docs/track_labels.md``).
        aggregate_over (str): the unit of that mean and vote: ``'frames'``
            (mmdet) or ``'clips'`` (the authors: each clip a track appears
            in counts once, with its first frame's score and label; needs
            ``clip_index`` in the frames).

    Returns:
        list[dict]: ``video_id``, ``score`` (None: mean of the per-frame
        scores, in their dtype), ``category_id`` (None: majority vote over
        the frames, ties to the lowest label) and ``segmentations`` (an RLE
        per frame, ``None`` where the track is absent), in order of first
        appearance.
    """
    check_labels_per_track(labels_per_track)
    tracks = _collect_tracks(frames, labels_per_track, aggregate_over)
    num_frames = len(frames) if num_frames is None else num_frames
    results = []
    for data in tracks.values():
        segms = [data['segms'].get(f) for f in range(num_frames)]
        for label, score in _track_labels(data, labels_per_track):
            results.append(
                dict(
                    video_id=video_id,
                    score=score,
                    category_id=(label + 1
                                 if cat_ids is None else int(cat_ids[label])),
                    segmentations=segms))
    return results


def _collect_tracks(frames: Sequence[dict], labels_per_track: Optional[int],
                    aggregate_over: str) -> Dict[int, dict]:
    """Per track id, in order of first appearance: ``labels`` and
    ``scores`` (one per frame, or per clip), ``cls`` (class-score vectors)
    and ``segms`` (frame -> RLE)."""
    if aggregate_over not in ('frames', 'clips'):
        raise ValueError("aggregate_over must be 'frames' or 'clips', got "
                         f'{aggregate_over!r}')
    tracks: Dict[int, dict] = {}
    for frame_id, frame in enumerate(frames):
        masks, labels = frame['masks'], frame['labels']
        assert len(masks) == len(labels)
        unit = _unit(frame, frame_id, aggregate_over)
        for j, track_id in enumerate(frame['instances_id']):
            data = tracks.setdefault(
                track_id,
                dict(labels=[], scores=[], cls=[], segms={}, units=set()))
            if unit not in data['units']:
                data['units'].add(unit)
                data['labels'].append(labels[j])
                data['scores'].append(frame['scores'][j])
            if labels_per_track is not None:
                data['cls'].append(_class_scores(frame, j, frame_id))
            if isinstance(masks[j]['counts'], bytes):
                masks[j]['counts'] = masks[j]['counts'].decode()
            data['segms'][frame_id] = masks[j]
    return tracks


def _unit(frame: dict, frame_id: int, aggregate_over: str) -> int:
    """The frame's unit of aggregation: itself, or its clip."""
    if aggregate_over == 'frames':
        return frame_id
    if frame.get('clip_index') is None:
        raise ValueError(f"frame {frame_id}: aggregate_over='clips' needs "
                         'the clip_index of every frame')
    return int(frame['clip_index'])


def check_labels_per_track(labels_per_track: Optional[int]) -> None:
    """``labels_per_track`` is None or a positive count."""
    if labels_per_track is not None and labels_per_track < 1:
        raise ValueError(f'labels_per_track={labels_per_track}: need >= 1')


def _track_labels(data: dict,
                  labels_per_track: Optional[int]) -> List[Tuple[int, float]]:
    """(label, score) of each result of one track: the vote and the mean
    score, or the ``labels_per_track`` best classes of the mean class-score
    vector (ties to the lowest label) with their mean probabilities."""
    if labels_per_track is None:
        label = np.bincount(np.array(data['labels'])).argmax().item()
        return [(label, np.array(data['scores']).mean().item())]
    mean = np.mean(np.stack(data['cls']).astype(np.float64), 0)
    best = np.argsort(-mean, kind='stable')[:labels_per_track]
    return [(int(c), float(mean[c])) for c in best]


def _class_scores(frame: dict, j: int, frame_id: int) -> np.ndarray:
    """Class-score vector (C,) of instance ``j`` of a frame."""
    if frame.get('cls_scores') is None:
        raise ValueError(
            f'frame {frame_id}: labels_per_track needs the per-frame '
            '"cls_scores" of every instance, and this frame has none (its '
            'model outputs only labels and scores)')
    return np.asarray(frame['cls_scores'][j])
