"""Drop instances that a crop emptied, keeping instance ids aligned."""
from typing import Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import BaseBoxes

INSTANCE_KEYS = ('gt_bboxes', 'gt_bboxes_labels', 'gt_masks',
                 'gt_ignore_flags', 'gt_instances_ids')


@TRANSFORMS.register_module()
class FilterEmptyInstances(BaseTransform):
    """Remove, from one frame, the instances whose mask has fewer than
    ``min_mask_area`` pixels or whose box is thinner than ``min_box_wh``.

    Unlike mmdet's ``FilterAnnotations`` it filters ``gt_instances_ids``
    with the boxes (so ids stay aligned in VIS clips) and never returns
    ``None`` (a frame may legitimately lose every object; returning None
    would crash ``TransformBroadcaster``).

    Args:
        min_mask_area (int): pixels a mask must have (1).
        min_box_wh (tuple[float, float]): minimal box width and height.
    """

    def __init__(
        self,
        min_mask_area: int = 1,
        min_box_wh: Tuple[float, float] = (1., 1.)
    ) -> None:
        self.min_mask_area = min_mask_area
        self.min_box_wh = min_box_wh

    def transform(self, results: dict) -> dict:
        boxes = results.get('gt_bboxes')
        if boxes is None or len(boxes) == 0:
            return results
        arr = boxes.numpy() if isinstance(boxes, BaseBoxes) else \
            np.asarray(boxes)
        keep = ((arr[:, 2] - arr[:, 0]) >= self.min_box_wh[0]) & (
            (arr[:, 3] - arr[:, 1]) >= self.min_box_wh[1])
        if 'gt_masks' in results:
            keep &= results['gt_masks'].areas >= self.min_mask_area
        if keep.all():
            return results
        for key in INSTANCE_KEYS:
            if key in results:
                results[key] = results[key][keep]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(min_mask_area={self.min_mask_area}, '
                f'min_box_wh={self.min_box_wh})')
