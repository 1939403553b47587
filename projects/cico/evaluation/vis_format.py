"""Video-level YouTube-VIS results from per-frame tracked instances.

The aggregation of mmdet's ``YouTubeVISMetric`` as a pure function, shared by
:class:`~projects.cico.evaluation.CiCoVISMetric` and the
:class:`~projects.cico.apis.VideoInferencer` (demo ``--out-json``), so that
both export the same json for the same frames.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np


def format_video_tracks(frames: Sequence[dict],
                        video_id: int,
                        num_frames: Optional[int] = None,
                        cat_ids: Optional[Sequence[int]] = None) -> List[dict]:
    """One YouTube-VIS result per track of a video.

    Args:
        frames (Sequence[dict]): per frame, in order, ``instances_id``,
            ``labels``, ``scores`` (arrays of length n) and ``masks`` (n
            compressed RLEs; ``bytes`` counts are decoded to ``str`` in
            place).
        video_id (int): ``video_id`` of every result.
        num_frames (int, optional): length of ``segmentations``; default
            ``len(frames)``.
        cat_ids (Sequence[int], optional): the dataset's category ids,
            indexed by label; default ``label + 1``.

    Returns:
        list[dict]: ``video_id``, ``score`` (mean of the per-frame scores,
        computed in the scores' dtype), ``category_id`` (majority vote over
        the frames, ties to the lowest label) and ``segmentations`` (an RLE
        per frame, ``None`` where the track is absent), in order of first
        appearance.
    """
    tracks: Dict[int, dict] = {}
    for frame_id, frame in enumerate(frames):
        masks, labels = frame['masks'], frame['labels']
        assert len(masks) == len(labels)
        for j, track_id in enumerate(frame['instances_id']):
            data = tracks.setdefault(track_id,
                                     dict(labels=[], scores=[], segms={}))
            data['labels'].append(labels[j])
            data['scores'].append(frame['scores'][j])
            if isinstance(masks[j]['counts'], bytes):
                masks[j]['counts'] = masks[j]['counts'].decode()
            data['segms'][frame_id] = masks[j]
    if num_frames is None:
        num_frames = len(frames)
    results = []
    for data in tracks.values():
        label = np.bincount(np.array(data['labels'])).argmax().item()
        results.append(
            dict(
                video_id=video_id,
                score=np.array(data['scores']).mean().item(),
                category_id=(label +
                             1 if cat_ids is None else int(cat_ids[label])),
                segmentations=[
                    data['segms'].get(f) for f in range(num_frames)
                ]))
    return results
