from .clip_dynamic_mask import ClipCondInstFCN, ClipLincombMask
from .clip_protonet import ClipProtoNet

__all__ = ['ClipCondInstFCN', 'ClipLincombMask', 'ClipProtoNet']
