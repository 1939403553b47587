from .clip_dynamic_mask import ClipLincombMask
from .clip_protonet import ClipProtoNet

__all__ = ['ClipLincombMask', 'ClipProtoNet']
