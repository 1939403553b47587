"""Temporal coherence of objects in a video dataset (Sec. 3.2 and Fig. 3 of
the CiCo paper).

For an object i in frame t and an interval delta, Eq. 3 defines

    T-BIoU = |B_i^t ∩ B_i^{t+delta}| / |B_i^t ∪ B_i^{t+delta}|,
    T-MIoU = |M_i^t ∩ M_i^{t+delta}| / |M_i^t ∪ M_i^{t+delta}|.

Averaging rule (Sec. 3.2): if the object appears in both frames
``t - delta`` and ``t + delta``, the IoU is computed against both and
averaged; if it appears in only one of them, only that one is used; if in
neither (or if the object is absent in frame t), the pair (object, t)
contributes nothing.

The input is an official YouTube-VIS / OVIS style annotation json (``videos``
with ``length`` or ``file_names``; ``annotations`` with per-frame ``bboxes`` /
``segmentations`` lists, ``null`` where the object is absent). Segmentations
may be compressed RLE (``counts`` a string), uncompressed RLE (``counts`` a
list) or polygons (read by
:func:`projects.cico.utils.masks.segmentation_to_rle`).
"""
import json
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from pycocotools import mask as mask_utils

from ..utils.masks import segmentation_to_rle

__all__ = [
    'DEFAULT_DELTAS', 'DEFAULT_THR', 'temporal_coherence',
    'proportion_at_least', 'load_annotations'
]

DEFAULT_DELTAS: Tuple[int, ...] = (1, 2, 3, 4)  # Fig. 3 of the paper
DEFAULT_THR = 0.75  # PB>=0.75 / PM>=0.75 in Fig. 3

_Track = Tuple[List[Optional[np.ndarray]],
               List[Optional[dict]]]  # per-frame boxes, per-frame RLEs


def load_annotations(
    ann_file_or_dict: Union[str, Dict[str,
                                      Any]]) -> Tuple[Dict[str, Any], str]:
    """Return ``(data, source)``: the parsed json and a name for error
    messages."""
    if isinstance(ann_file_or_dict, dict):
        return ann_file_or_dict, '<annotation dict>'
    path = str(ann_file_or_dict)
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file not found: {path}')
    try:
        with open(path) as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f'{path}: invalid json ({err})') from err
    if not isinstance(data, dict):
        raise ValueError(
            f'{path}: expected a json object with "videos" and "annotations"')
    return data, path


def _box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two [x, y, w, h] boxes (continuous coordinates, no +1)."""
    ix = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    iy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(ix, 0.0) * max(iy, 0.0)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return float(inter / union) if union > 0 else 0.0


def _mask_iou(a: dict, b: dict) -> float:
    """IoU of two compressed RLEs (pycocotools, iscrowd 0)."""
    return float(mask_utils.iou([a], [b], [0])[0, 0])


def _parse_track(ann: Dict[str, Any], length: int, height: Optional[int],
                 width: Optional[int], where: str) -> _Track:
    """Per-frame boxes (None where absent) and RLEs (None where absent or no
    masks)."""
    segs = ann.get('segmentations')
    boxes = ann.get('bboxes')
    if segs is None and boxes is None:
        raise ValueError(f'{where}: has neither "segmentations" nor "bboxes"')
    for key, values in (('segmentations', segs), ('bboxes', boxes)):
        if values is not None and len(values) != length:
            raise ValueError(
                f'{where}: "{key}" has {len(values)} entries but the video '
                f'has {length} frames')
    h = ann.get('height', height)
    w = ann.get('width', width)
    out_boxes: List[Optional[np.ndarray]] = [None] * length
    out_rles: List[Optional[dict]] = [None] * length
    for t in range(length):
        rle = None
        if segs is not None:
            if segs[t] is None:
                continue  # absent in this frame
            if isinstance(segs[t], list) and (h is None or w is None):
                raise ValueError(f'{where}: polygon segmentation needs the '
                                 'frame height/width')
            try:
                rle = segmentation_to_rle(segs[t], h, w)
            # pycocotools raises bare exceptions on malformed input
            except Exception as err:
                raise ValueError(
                    f'{where}: frame {t}: cannot read segmentation ({err})'
                ) from err
            if mask_utils.area(rle) == 0:
                continue  # an empty mask is an absent object
        box = boxes[t] if boxes is not None else None
        if box is None:
            if rle is None:
                continue
            box = mask_utils.toBbox(rle)
        box = np.asarray(box, dtype=np.float64)
        if box.shape != (4, ):
            raise ValueError(
                f'{where}: frame {t}: a box must be [x, y, w, h], got '
                f'{box.tolist()}')
        if rle is None and (box[2] <= 0 or box[3] <= 0):
            continue  # box-only annotation with an empty box
        out_boxes[t], out_rles[t] = box, rle
    return out_boxes, out_rles


def _iter_tracks(data: Dict[str, Any], source: str):
    """Yield every annotation's per-frame (boxes, rles), validated against
    its video."""
    for key in ('videos', 'annotations'):
        if not isinstance(data.get(key), list):
            raise ValueError(f'{source}: missing or invalid "{key}" list')
    videos = {}
    for video in data['videos']:
        if 'length' in video:
            length = int(video['length'])
        elif 'file_names' in video:
            length = len(video['file_names'])
        else:
            raise ValueError(
                f'{source}: video id {video.get("id")}: needs "length" or '
                f'"file_names"')
        if 'file_names' in video and len(video['file_names']) != length:
            raise ValueError(
                f'{source}: video id {video.get("id")}: "length" is {length} '
                f'but there are {len(video["file_names"])} file_names')
        videos[video['id']] = (length, video.get('height'), video.get('width'))
    for ann in data['annotations']:
        where = (f'{source}: video id {ann.get("video_id")}, annotation id '
                 f'{ann.get("id")}')
        if ann.get('video_id') not in videos:
            raise ValueError(f'{where}: unknown video id')
        length, height, width = videos[ann['video_id']]
        yield _parse_track(ann, length, height, width, where)


def _coherence_of_track(boxes: List[Optional[np.ndarray]],
                        rles: List[Optional[dict]],
                        delta: int) -> Tuple[List[float], List[float]]:
    """T-BIoU / T-MIoU values of one object for one delta, frames in
    ascending order."""
    length = len(boxes)
    # IoU of each pair (t, t + delta) where both frames have the object,
    # computed once.
    pair_biou: Dict[int, float] = {}
    pair_miou: Dict[int, float] = {}
    for t in range(length - delta):
        if boxes[t] is not None and boxes[t + delta] is not None:
            pair_biou[t] = _box_iou(boxes[t], boxes[t + delta])
            if rles[t] is not None and rles[t + delta] is not None:
                pair_miou[t] = _mask_iou(rles[t], rles[t + delta])
    biou, miou = [], []
    for t in range(length):
        if boxes[t] is None:
            continue
        # backward pair (t - delta, t) is keyed t - delta; forward pair
        # (t, t + delta) keyed t
        b = [pair_biou[k] for k in (t - delta, t) if k in pair_biou]
        m = [pair_miou[k] for k in (t - delta, t) if k in pair_miou]
        if b:
            biou.append(sum(b) / len(b))
        if m:
            miou.append(sum(m) / len(m))
    return biou, miou


def temporal_coherence(
    ann_file_or_dict: Union[str, Dict[str, Any]],
    deltas: Sequence[int] = DEFAULT_DELTAS
) -> Dict[int, Dict[str, np.ndarray]]:
    """T-BIoU and T-MIoU (Eq. 3, averaged over t - delta and t + delta as in
    Sec. 3.2).

    Args:
        ann_file_or_dict: path of a YouTube-VIS style annotation json, or the
            parsed dict.
        deltas: frame intervals (positive ints).

    Returns:
        ``{delta: dict(biou=(N_b,) float64 array, miou=(N_m,) float64 array)}``
        with one value per contributing (object, frame), annotations in file
        order and frames ascending. ``N_m`` can be smaller than ``N_b`` only
        for box-only annotations (no ``segmentations``).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: invalid json, or an annotation inconsistent with its video
            (the message names the file, the video id and the annotation
            id).
    """
    deltas = [int(d) for d in deltas]
    if not deltas or any(d < 1 for d in deltas):
        raise ValueError(f'deltas must be positive ints, got {deltas}')
    data, source = load_annotations(ann_file_or_dict)
    values = {d: ([], []) for d in deltas}
    for boxes, rles in _iter_tracks(data, source):
        for d in deltas:
            biou, miou = _coherence_of_track(boxes, rles, d)
            values[d][0].extend(biou)
            values[d][1].extend(miou)
    return {
        d:
        dict(
            biou=np.asarray(b, dtype=np.float64),
            miou=np.asarray(m, dtype=np.float64))
        for d, (b, m) in values.items()
    }


def proportion_at_least(values: Union[np.ndarray, Sequence[float]],
                        thr: float = DEFAULT_THR) -> float:
    """Fraction of ``values`` that are >= ``thr`` (the paper's PB/PM); NaN
    for no values."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return float('nan')
    return float(np.count_nonzero(arr >= thr) / arr.size)
