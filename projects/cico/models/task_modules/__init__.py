from .circumscribed_assigner import CircumscribedBoxAssigner
from .clip_nms import clip_box_similarity, clip_fast_nms, clip_mask_iou

__all__ = [
    'CircumscribedBoxAssigner', 'clip_box_similarity', 'clip_fast_nms',
    'clip_mask_iou'
]
