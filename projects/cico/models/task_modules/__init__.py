from .circumscribed_assigner import CircumscribedBoxAssigner
from .clip_nms import clip_fast_nms

__all__ = ['CircumscribedBoxAssigner', 'clip_fast_nms']
