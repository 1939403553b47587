from .circumscribed_assigner import CircumscribedBoxAssigner
from .clip_nms import clip_fast_nms
from .clip_nms_postprocessor import ClipNMSPostProcessor
from .forced_match_assigner import ForcedMatchAssigner
from .reference_postprocess import ReferencePostProcessor
from .unclamped_delta_coder import UnclampedDeltaXYWHBBoxCoder

__all__ = [
    'CircumscribedBoxAssigner', 'ForcedMatchAssigner',
    'UnclampedDeltaXYWHBBoxCoder', 'clip_fast_nms', 'ClipNMSPostProcessor',
    'ReferencePostProcessor'
]
