from .dense_heads import CiCoClipHead
from .vis import CiCo, ClipStream
from .layers import ClipConvTower
from .losses import ClipMaskLoss, TrackEmbedLoss
from .mask_heads import ClipLincombMask, ClipProtoNet
from .task_modules import CircumscribedBoxAssigner
from .trackers import ClipTracker

__all__ = [
    'CiCo', 'CiCoClipHead', 'ClipProtoNet', 'ClipLincombMask',
    'CircumscribedBoxAssigner', 'ClipMaskLoss', 'TrackEmbedLoss',
    'ClipTracker', 'ClipConvTower'
]
