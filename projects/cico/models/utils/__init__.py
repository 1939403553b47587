from .box_crop import box_crop_regions, expand_boxes
from .circumscribed_boxes import (circumscribed_boxes,
                                  window_circumscribed_boxes)
from .clip_instances import (batch_clip_instances, build_clip_instances,
                             clip_ground_truth, supplement_missing_boxes)
from .clip_similarity import clip_box_similarity, clip_mask_iou, frame_box_iou

__all__ = [
    'batch_clip_instances', 'clip_ground_truth', 'box_crop_regions',
    'expand_boxes', 'build_clip_instances', 'circumscribed_boxes',
    'clip_box_similarity', 'clip_mask_iou', 'frame_box_iou',
    'supplement_missing_boxes', 'window_circumscribed_boxes'
]
