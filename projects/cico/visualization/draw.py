"""Drawing of VIS instances on frames (browse_dataset, test --show-dir, demo).

Colours depend on the instance (track) id only, so an object keeps its colour
across the frames of a video.
"""
import colorsys
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from ..utils.masks import rle_to_masks

MASK_ALPHA = 0.5  # mask opacity
BOX_THICKNESS = 1
FONT = cv2.FONT_HERSHEY_SIMPLEX
FONT_SCALE = 0.35
FONT_THICKNESS = 1
GOLDEN_RATIO = 0.618033988749895  # hue step: well separated id colours


def id_color(instance_id: int) -> Tuple[int, int, int]:
    """A bright BGR colour that depends on the instance id only."""
    hue = (int(instance_id) * GOLDEN_RATIO) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 1.0)
    return int(b * 255), int(g * 255), int(r * 255)


def draw_frame(img: np.ndarray,
               bboxes: np.ndarray,
               labels: np.ndarray,
               ids: np.ndarray,
               masks: np.ndarray,
               classes: Sequence[str],
               scores: Optional[np.ndarray] = None,
               show_boxes: bool = True,
               show_labels: bool = True,
               show_scores: bool = True) -> np.ndarray:
    """Draw masks, boxes and ``id:<id> <class> [score]`` on a BGR uint8
    frame (a copy is returned). ``show_boxes=False`` leaves out the boxes,
    ``show_labels=False`` the ``id:<id> <class>`` text and
    ``show_scores=False`` the scores (no text at all without both)."""
    out = img.copy()
    for k in range(len(bboxes)):
        color = np.array(id_color(ids[k]), np.float32)
        m = masks[k] if k < len(masks) else None
        if m is not None and m.shape == out.shape[:2] and m.any():
            out[m] = (out[m] * (1 - MASK_ALPHA) + color * MASK_ALPHA).astype(
                np.uint8)
    for k in range(len(bboxes)):
        color = id_color(ids[k])
        x1, y1, x2, y2 = [int(round(float(v))) for v in bboxes[k]]
        if show_boxes:
            cv2.rectangle(out, (x1, y1), (x2, y2), color, BOX_THICKNESS)
        words = []
        if show_labels:
            label = int(labels[k])
            name = classes[label] if 0 <= label < len(classes) else str(label)
            words += [f'id:{int(ids[k])}', name]
        if scores is not None and show_scores:
            words.append(f'{float(scores[k]):.2f}')
        if words:
            _draw_text(out, ' '.join(words), x1, y1, color)
    return out


def _draw_text(out: np.ndarray, text: str, x: int, y: int, color) -> None:
    """``text`` on a filled ``color`` box above (x, y), kept in the frame."""
    (tw, th), base = cv2.getTextSize(text, FONT, FONT_SCALE, FONT_THICKNESS)
    tx = min(max(x, 0), max(out.shape[1] - tw, 0))
    ty = max(y, th + base)
    cv2.rectangle(out, (tx, ty - th - base), (tx + tw, ty), color, -1)
    cv2.putText(out, text, (tx, ty - base), FONT, FONT_SCALE, (0, 0, 0),
                FONT_THICKNESS, cv2.LINE_AA)


def decode_masks(masks, height: int, width: int) -> np.ndarray:
    """Masks as a (n, H, W) bool array: the model's predictions (a list of
    RLE dicts at the frame size) are decoded; a tensor or array (e.g.
    ground truth, a decoded ``FrameResult``) is converted."""
    if isinstance(masks, (list, tuple)):
        return rle_to_masks(masks, height, width).numpy()
    arr = masks.detach().cpu().numpy() if hasattr(masks, 'detach') else \
        np.asarray(masks)
    return arr.astype(bool).reshape(-1, height, width)


def draw_track_instances(img: np.ndarray,
                         instances,
                         classes: Sequence[str],
                         score_thr: float = 0.,
                         **switches) -> np.ndarray:
    """Draw ``pred_track_instances`` (``bboxes``, ``labels``, ``scores``,
    ``instances_id``, ``masks`` as RLE list or binary) on a BGR frame of
    the original size; ``switches``: ``show_boxes``, ``show_labels``,
    ``show_scores`` of :func:`draw_frame`."""
    h, w = img.shape[:2]
    scores = instances.scores.cpu().numpy()
    keep = scores >= score_thr
    masks = decode_masks(instances.masks, h, w)
    return draw_frame(
        img,
        instances.bboxes.cpu().numpy()[keep],
        instances.labels.cpu().numpy()[keep],
        instances.instances_id.cpu().numpy()[keep],
        masks[keep] if len(masks) else masks,
        classes,
        scores=scores[keep],
        **switches)
