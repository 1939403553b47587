"""The authors' "expand" augmentation: zoom out onto a mean canvas, or zoom
in and crop back (``docs/training_recipe.md#data``)."""
from typing import Sequence, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import BaseBoxes


def _zoom_boxes(boxes, s: float, shift: Tuple[int, int], size: Tuple[int,
                                                                     int]):
    """Boxes (``HorizontalBoxes`` or an (n, 4) array) scaled by ``s``,
    shifted by ``shift`` (dx, dy) and clipped to ``size`` (h, w)."""
    if isinstance(boxes, BaseBoxes):
        boxes.rescale_([s, s])
        boxes.translate_(shift)
        boxes.clip_(size)
        return boxes
    arr = np.asarray(boxes, dtype=np.float32) * s
    arr[:, 0::2] = (arr[:, 0::2] + shift[0]).clip(0, size[1])
    arr[:, 1::2] = (arr[:, 1::2] + shift[1]).clip(0, size[0])
    return arr


@TRANSFORMS.register_module()
class ClipExpand(BaseTransform):
    """With probability ``prob`` draw a scale s ~ U(``scale_range``) and
    keep the frame size: s <= 1 shrinks the frame by s and pastes it at the
    top-left corner of a canvas filled with ``fill``; s > 1 enlarges it by
    s and crops a random window of the original size (boxes shifted and
    clipped to the frame). Boxes are scaled with the frame, never
    recomputed from the masks; masks are resized bilinearly.

    Inside ``TransformBroadcaster(share_random_params=True)`` every frame of
    a clip gets the same draw. Objects that the crop leaves outside the
    frame keep a zero-size box: a ``FilterEmptyInstances`` after it removes
    them from that frame.

    Args:
        prob (float): probability of expanding (0.5).
        scale_range (tuple[float, float]): range of s (0.5, 1.5).
        fill (sequence[float]): canvas value per channel of the image as
            loaded (BGR for mmcv): the normalisation's mean, so the canvas
            is 0 after it.
    """

    def __init__(
        self,
        prob: float = 0.5,
        scale_range: Tuple[float, float] = (0.5, 1.5),
        fill: Sequence[float] = (123.675, 116.28, 103.53)
    ) -> None:
        if not 0 <= prob <= 1:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        if not 0 < scale_range[0] <= scale_range[1]:
            raise ValueError(f'scale_range must be 0 < lo <= hi, got '
                             f'{scale_range}')
        self.prob = prob
        self.scale_range = tuple(scale_range)
        self.fill = tuple(fill)

    @cache_randomness
    def _draw(self, h: int, w: int) -> Tuple[bool, float, int, int]:
        """(apply, s, left, top): one draw per clip."""
        if np.random.rand() >= self.prob:
            return False, 1., 0, 0
        s = float(np.random.uniform(*self.scale_range))
        nh, nw = int(h * s), int(w * s)
        left = int(np.random.randint(0, nw - w + 1)) if nw > w else 0
        top = int(np.random.randint(0, nh - h + 1)) if nh > h else 0
        return True, s, left, top

    def transform(self, results: dict) -> dict:
        img = results['img']
        h, w = img.shape[:2]
        apply, s, left, top = self._draw(h, w)
        if not apply:
            return results
        return self.expand(results, s, left, top)

    def expand(self, results: dict, s: float, left: int, top: int) -> dict:
        """The frame zoomed by ``s``: pasted at (0, 0) on the canvas when
        s <= 1, the window at (``left``, ``top``) when s > 1."""
        img = results['img']
        h, w = img.shape[:2]
        nh, nw = int(h * s), int(w * s)
        scaled = mmcv.imresize(img, (nw, nh), interpolation='bilinear')
        if s <= 1:
            out = np.empty_like(img)
            out[...] = np.asarray(self.fill, dtype=img.dtype)
            out[:nh, :nw] = scaled
            shift = (0, 0)
        else:
            out = scaled[top:top + h, left:left + w]
            shift = (-left, -top)
        results['img'] = out
        if results.get('gt_bboxes') is not None:
            results['gt_bboxes'] = _zoom_boxes(results['gt_bboxes'], s, shift,
                                               (h, w))
        if results.get('gt_masks') is not None:
            masks = results['gt_masks'].resize((nh, nw),
                                               interpolation='bilinear')
            if s <= 1:
                masks = masks.expand(h, w, 0, 0)
            else:
                masks = masks.crop(np.array([left, top, left + w, top + h]))
            results['gt_masks'] = masks
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, scale_range='
                f'{self.scale_range}, fill={self.fill})')
